package sns_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
	"github.com/rotorhq/rotor/internal/notify/internal/awstest"
	"github.com/rotorhq/rotor/internal/notify/sns"
)

func TestPublish(t *testing.T) {
	topic := awstest.TopicARN("rotor-admins")
	srv := awstest.NewSNS(nil, topic)
	defer srv.Close()
	p, err := sns.New(sns.NewClient(srv.Config(awstest.Credentials())), topic)
	if err != nil {
		t.Fatal(err)
	}
	long := "rotor: rotation failed for " + strings.Repeat("very/long/secret/name/", 10) + "\nsecond line"
	id, err := p.Publish(context.Background(), long, "body\nwith lines")
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Published()
	if len(got) != 1 || got[0].MessageID != id || got[0].Message != "body\nwith lines" {
		t.Fatalf("published %+v, id %s", got, id)
	}
	if n := utf8.RuneCountInString(got[0].Subject); n > sns.MaxSubject || strings.ContainsAny(got[0].Subject, "\n\r") {
		t.Errorf("subject %q (%d characters) breaks SNS's rules", got[0].Subject, n)
	}
}

func TestPublishErrors(t *testing.T) {
	topic := awstest.TopicARN("rotor-admins")
	srv := awstest.NewSNS(nil, topic)
	defer srv.Close()

	missing, _ := sns.New(sns.NewClient(srv.Config(awstest.Credentials())), awstest.TopicARN("gone"))
	if _, err := missing.Publish(context.Background(), "s", "m"); err == nil || !strings.Contains(err.Error(), "check notify-sns-topic") {
		t.Errorf("unknown topic: %v", err)
	}
	bad := awstest.Credentials()
	bad.SecretAccessKey = "bad"
	p, _ := sns.New(sns.NewClient(srv.Config(bad)), topic)
	if _, err := p.Publish(context.Background(), "s", "m"); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("bad signature: %v", err)
	}
	srv.FailNext(500)
	p, _ = sns.New(sns.NewClient(srv.Config(awstest.Credentials())), topic)
	if _, err := p.Publish(context.Background(), "s", "m"); err == nil {
		t.Error("a 500 from SNS was not an error")
	}
	if _, err := p.Publish(context.Background(), "s", ""); err == nil {
		t.Error("an empty message was accepted")
	}
	if len(srv.Published()) != 0 {
		t.Errorf("published %+v", srv.Published())
	}
}

func TestNew(t *testing.T) {
	srv := awstest.NewSNS(nil)
	defer srv.Close()
	for _, arn := range []string{"", "topic", "arn:aws:sqs:us-east-1:123456789012:q", awstest.TopicARN("x.fifo")} {
		if _, err := sns.New(sns.NewClient(srv.Config(awstest.Credentials())), arn); err == nil {
			t.Errorf("New accepted %q", arn)
		}
	}
	if _, err := sns.New(nil, awstest.TopicARN("x")); err == nil {
		t.Error("New accepted a nil client")
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                   "plain",
		"two\nlines\r\n\tand tab": "two lines and tab",
		"ctl\x00\x07chars":        "ctl chars",
		"":                        "",
	} {
		if got := sns.Subject(in); got != want {
			t.Errorf("Subject(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sns.Subject(strings.Repeat("ü", 300)); utf8.RuneCountInString(got) != sns.MaxSubject {
		t.Errorf("long subject cut to %d characters", utf8.RuneCountInString(got))
	}
}

// The Client's answers and errors are those the SDK's SNS client reads
// from the same endpoint: the same message ids, and errors with the same
// code, status, request id and operation.
func TestClientIsTheSDKs(t *testing.T) {
	topic := awstest.TopicARN("rotor-admins")
	srv := awstest.NewSNS(nil, topic)
	defer srv.Close()
	ctx := context.Background()
	bad := awstest.Credentials()
	bad.SecretAccessKey = "bad"

	out, err := sns.NewClient(srv.Config(awstest.Credentials())).Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: "m"})
	if err != nil || out.MessageId == "" {
		t.Fatalf("Publish: %+v, %v", out, err)
	}
	sdkOut, err := srv.Client(awstest.Credentials()).Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Published(); len(got) != 2 || got[0].MessageID != out.MessageId || got[1].MessageID != *sdkOut.MessageId ||
		got[0].Subject != "" || got[1].Subject != "" {
		t.Fatalf("published %+v", got)
	}

	for _, tc := range []struct {
		name   string
		creds  aws.Credentials
		topic  string
		status int // scripted failure
		code   string
	}{
		{"unknown topic", awstest.Credentials(), awstest.TopicARN("gone"), 0, "NotFound"},
		{"bad signature", bad, topic, 0, "SignatureDoesNotMatch"},
		{"server error", awstest.Credentials(), topic, 500, "InternalError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status != 0 {
				srv.FailNext(tc.status)
			}
			_, err := sns.NewClient(srv.Config(tc.creds)).Publish(ctx, &sns.PublishInput{TopicArn: tc.topic, Message: "m"})
			if tc.status != 0 {
				srv.FailNext(tc.status)
			}
			_, sdkErr := srv.Client(tc.creds).Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(tc.topic), Message: aws.String("m")})
			got, want := awsapitest.ShapeOf(err), awsapitest.ShapeOf(sdkErr)
			if got != want || got.Code != tc.code || got.RequestID == "" {
				t.Errorf("rotor's error %+v (%v); the SDK's %+v (%v); want code %s", got, err, want, sdkErr, tc.code)
			}
		})
	}
}
