package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/notify/internal/awstest"
	"github.com/rotorhq/rotor/internal/notify/ses"
	"github.com/rotorhq/rotor/internal/notify/slack/slacktest"
	"github.com/rotorhq/rotor/internal/notify/sns"
	"github.com/rotorhq/rotor/internal/notify/webhook"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

const hookKey = "webhook-shared-secret-0123"

// receiver is a webhook endpoint that requires a valid signature.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	hdrs   []http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "json only", http.StatusUnsupportedMediaType)
			return
		}
		if err := webhook.Verify([]byte(hookKey), req.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.hdrs = append(r.hdrs, req.Header.Clone())
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

type testEnv struct {
	slack *slacktest.Server
	hook  *receiver
	sns   *awstest.SNS
	ses   *awstest.SES
	topic string
	deps  Deps
	logs  *syncbuf.Buffer
}

func newEnv(t *testing.T) *testEnv {
	e := &testEnv{topic: awstest.TopicARN("rotor-admins")}
	e.slack = slacktest.NewServer()
	t.Cleanup(e.slack.Close)
	e.hook = newReceiver(t)
	e.sns = awstest.NewSNS(nil, e.topic)
	t.Cleanup(e.sns.Close)
	e.ses = awstest.NewSES(nil, false, "example.com")
	t.Cleanup(e.ses.Close)
	var log = slogTo(e)
	e.deps = Deps{Logger: log, SNS: sns.NewClient(e.sns.Config(awstest.Credentials())), SES: ses.NewClient(e.ses.Config(awstest.Credentials()))}
	return e
}

func (e *testEnv) allOptions() rotator.Options {
	return rotator.Options{
		OptOn:            "all",
		OptSlackWebhook:  e.slack.WebhookURL(),
		OptWebhook:       e.hook.URL + "/rotor",
		OptWebhookSecret: hookKey,
		OptSNSTopic:      e.topic,
		OptSESFrom:       "rotor@example.com",
		OptSESTo:         "security@example.com,user",
		OptSESDomain:     "example.com",
	}
}

// The secret values in play. None may appear in any payload.
var values = []string{
	"Tr0ub4dor&3-current",
	"correct-horse-battery-staple",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}

func redactList() []secret.Value {
	return []secret.Value{
		secret.New(values[0]),
		secret.New(values[1]),
		secret.New(`{"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"` + values[2] + `"}`),
	}
}

func TestAllChannelsEndToEnd(t *testing.T) {
	e := newEnv(t)
	d, err := FromOptions(e.allOptions(), e.deps)
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{
		Outcome: Failed, SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
		SecretName: "prod/db", Kind: "iamkey", Step: "testSecret", Token: "0b7c6c55-token-version-id", User: "alice",
		// A careless caller put values in the message and the error:
		Message: "the new key " + values[2] + " was refused",
		Err:     errors.New("login with " + values[1] + " failed: 403"),
		Action:  "check the IAM policy of alice",
		Time:    time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
		Redact:  redactList(),
	}
	d.Send(context.Background(), ev)
	if st := d.Stats().Snapshot(); st["slack"].Sent != 1 || st["webhook"].Sent != 1 || st["sns"].Sent != 1 || st["ses"].Sent != 1 {
		t.Fatalf("stats %+v\nlogs:\n%s", st, e.logs)
	}

	payloads := map[string]string{}
	sl := e.slack.Received()
	payloads["slack"] = string(sl[0].Body)
	payloads["webhook"] = string(e.hook.got()[0])
	pub := e.sns.Published()
	payloads["sns"] = pub[0].Subject + "\n" + pub[0].Message
	mail := e.ses.Sent()
	payloads["ses"] = mail[0].Subject + "\n" + mail[0].Text

	for name, p := range payloads {
		for _, v := range values {
			if strings.Contains(p, v) || strings.Contains(p, strings.ReplaceAll(v, "&", `\u0026`)) {
				t.Errorf("%s payload contains a secret value:\n%s", name, p)
			}
		}
		for _, want := range []string{"prod/db", "testSecret", "was refused", "check the IAM policy of alice", "403"} {
			if !strings.Contains(p, want) {
				t.Errorf("%s payload lacks %q:\n%s", name, want, p)
			}
		}
	}
	if strings.Contains(e.logs.String(), values[1]) || strings.Contains(e.logs.String(), slacktest.Path) {
		t.Errorf("logs leak:\n%s", e.logs)
	}

	// Slack: JSON with fallback text and blocks.
	if ct := sl[0].Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("slack Content-Type %q", ct)
	}
	if m := sl[0].Message; !strings.Contains(m.Text, "Rotation failed: prod/db") || len(m.Blocks) < 4 || m.Blocks[0].Type != "header" {
		t.Errorf("slack message %+v", m)
	}
	// Webhook: the documented schema, signed.
	var p webhook.Payload
	if err := json.Unmarshal(e.hook.got()[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Schema != "rotor.notify/v1" || p.Outcome != "failed" || p.SecretName != "prod/db" || p.Step != "testSecret" ||
		p.VersionID != "0b7c6c55-token-version-id" || p.User != "alice" || !p.Time.Equal(ev.Time) || p.Error == "" {
		t.Errorf("webhook payload %+v", p)
	}
	if h := e.hook.hdrs[0]; h.Get("X-Rotor-Event") != "rotation.failed" || !strings.HasPrefix(h.Get("X-Rotor-Signature"), "v1=") {
		t.Errorf("webhook headers %v", h)
	}
	// SNS and SES through the real SDK clients, signed.
	if pub[0].TopicArn != e.topic || !strings.HasPrefix(pub[0].Subject, "[rotor] Rotation failed: prod/db") {
		t.Errorf("sns %+v", pub[0])
	}
	if got := strings.Join(mail[0].To, ","); got != "security@example.com,alice@example.com" || mail[0].From != "rotor@example.com" {
		t.Errorf("ses to %s from %s", got, mail[0].From)
	}
}

func slogTo(e *testEnv) *slog.Logger {
	log, buf := testLogger()
	e.logs = buf
	return log
}

func TestSeedIAMPreset(t *testing.T) {
	e := newEnv(t)
	o := rotator.Options{OptPreset: "seed-iam", OptSNSTopic: e.topic, OptSESFrom: "rotor@example.com", OptEmail: "jeremy.ritchie@example.com"}
	d, err := FromOptions(o, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	send := func(o Outcome) {
		d.Send(context.Background(), Event{Outcome: o, SecretName: "/access-key/jeremy.ritchie", Kind: "iamkey", User: "jeremy.ritchie"})
	}
	send(Succeeded)
	if len(e.ses.Sent()) != 1 || len(e.sns.Published()) != 0 {
		t.Fatalf("success: %d mails, %d admin messages; want 1, 0", len(e.ses.Sent()), len(e.sns.Published()))
	}
	if to := e.ses.Sent()[0].To; len(to) != 1 || to[0] != "jeremy.ritchie@example.com" {
		t.Errorf("success mail went to %v", to)
	}
	send(Failed)
	if len(e.ses.Sent()) != 1 || len(e.sns.Published()) != 1 {
		t.Fatalf("failure: %d mails, %d admin messages; want 1, 1", len(e.ses.Sent()), len(e.sns.Published()))
	}
	send(Partial)
	if len(e.ses.Sent()) != 2 || len(e.sns.Published()) != 2 {
		t.Fatalf("partial: %d mails, %d admin messages; want 2, 2", len(e.ses.Sent()), len(e.sns.Published()))
	}
}

func TestFailingChannelsAreCountedNotReturned(t *testing.T) {
	e := newEnv(t)
	// Slack answers 500; the webhook never answers; SES answers 500;
	// SNS's endpoint refuses connections.
	e.slack.Script(slacktest.Reply{Status: 500, Body: "rollup_error"})
	e.ses.FailNext(500)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	e.deps.SNS = sns.NewClient(aws.Config{Region: awstest.Region, BaseEndpoint: aws.String(closed),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return awstest.Credentials(), nil }), RetryMaxAttempts: 1})

	o := e.allOptions()
	o[OptWebhook] = hung.URL + "/hook/path-secret-xyz"
	o[OptTimeout] = "200ms"
	d, err := FromOptions(o, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	d.Send(context.Background(), Event{Outcome: Failed, SecretName: "prod/db", User: "alice"})
	st := d.Stats().Snapshot()
	for _, ch := range []string{"slack", "webhook", "sns", "ses"} {
		if st[ch].Failed != 1 {
			t.Errorf("%s: %+v, want one failure", ch, st[ch])
		}
	}
	logs := e.logs.String()
	for _, leak := range []string{"path-secret-xyz", slacktest.Path, hookKey} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs leak %q:\n%s", leak, logs)
		}
	}
	for _, want := range []string{`"channel":"slack"`, `"channel":"webhook"`, `"channel":"sns"`, `"channel":"ses"`, "500"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestGuardRefusesLeak(t *testing.T) {
	e := newEnv(t)
	d, err := FromOptions(rotator.Options{OptSlackWebhook: e.slack.WebhookURL(), OptSlackOn: "all"}, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	// Called directly, the adapter gets an event the Dispatcher has not
	// scrubbed: its own guard must refuse to send it.
	n := d.routes[0].Notifier
	err = n.Notify(context.Background(), Event{Outcome: Failed, SecretName: "x", Message: "v=" + values[1], Redact: redactList()})
	if !errors.Is(err, ErrWouldLeak) {
		t.Fatalf("err %v, want ErrWouldLeak", err)
	}
	if len(e.slack.Received()) != 0 {
		t.Fatal("the leaking payload was sent")
	}
}

func TestSESUserWithoutAddress(t *testing.T) {
	e := newEnv(t)
	d, err := FromOptions(rotator.Options{OptSESFrom: "rotor@example.com", OptSESTo: "user,security@example.com", OptSESOn: "all"}, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	d.Send(context.Background(), Event{Outcome: Succeeded, SecretName: "s", User: "bob"})
	if m := e.ses.Sent(); len(m) != 1 || strings.Join(m[0].To, ",") != "security@example.com" {
		t.Fatalf("sent %+v; the fixed recipient should still get the mail", m)
	}
	if d.Stats().Snapshot()["ses"].Failed != 1 || !strings.Contains(e.logs.String(), "rotor:email") {
		t.Errorf("missing user address not reported: %+v\n%s", d.Stats().Snapshot(), e.logs)
	}
}
