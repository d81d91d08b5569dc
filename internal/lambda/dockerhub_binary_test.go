package lambda

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/notify/slack/slacktest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub/hubtest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/ssmtest"
	"github.com/rotorhq/rotor/internal/store"
)

// TestBuiltBinaryRotatesDockerHub runs the real bootstrap as the Docker Hub
// PAT rotation Lambda is deployed: DOCKER_HUB_USERNAME, DOCKER_HUB_PASSWORD
// and DOCKER_HUB_SLACK_WEBHOOK_URL name SSM parameters, read through the
// SDK from an SSM endpoint that verifies the function's SigV4 signature
// (no Parameters and Secrets extension). It rotates a dockerhub secret
// three times, checks the grace period and that the account holds exactly
// the tokens of AWSCURRENT and AWSPREVIOUS, then makes a rotation fail (the
// password parameter changed to a wrong one) and expects the failure in
// Slack, without any secret.
func TestBuiltBinaryRotatesDockerHub(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rotor")
	}
	const (
		user     = "acme-ci"
		password = "hub-account-password-7c1f93"
	)
	hub := hubtest.New(hubtest.Config{BurstEvery: 5})
	t.Cleanup(hub.Close)
	hub.AddUser(user, password)
	ssm := ssmtest.New(ssmtest.Config{Credentials: map[string]string{testKeyID: testSecret}})
	t.Cleanup(ssm.Close)
	sl := slacktest.NewServer()
	t.Cleanup(sl.Close)
	ssm.Put("DOCKER_HUB_USERNAME", user)
	ssm.PutSecure("DOCKER_HUB_PASSWORD", password)
	ssm.PutSecure("DOCKER_HUB_SLACK_WEBHOOK_URL", sl.WebhookURL())

	bin := buildBootstrap(t)
	f := startFunction(t, bin,
		"DOCKER_HUB_USERNAME=DOCKER_HUB_USERNAME", "DOCKER_HUB_PASSWORD=DOCKER_HUB_PASSWORD",
		"DOCKER_HUB_SLACK_WEBHOOK_URL=DOCKER_HUB_SLACK_WEBHOOK_URL",
		"AWS_ENDPOINT_URL_SSM="+ssm.URL, "ROTOR_HUB_URL="+hub.URL, "ROTOR_REGISTRY_AUTH_URL="+hub.AuthURL)

	initID, initTok := hub.IssueToken(user, "made in Docker Hub's settings")
	b, _ := json.Marshal(map[string]string{"username": user, "password": initTok, "token_id": initID})
	v := secret.New(string(b))
	ref, err := f.st.CreateSecret(context.Background(), store.CreateSecretInput{Name: "dockerhub-pat", Value: &v,
		Tags: []store.Tag{{Key: rotator.TagKind, Value: "dockerhub"}}})
	if err != nil {
		t.Fatal(err)
	}
	rules := store.RotationRules{ScheduleExpression: "rate(30 days)"}
	secrets := []string{password, initTok, testSecret, slacktest.Path}
	ids := []string{initID}
	for i, tok := range []string{
		"3c1e2f30-4a5b-4c6d-8e7f-901a2b3c4d01",
		"3c1e2f30-4a5b-4c6d-8e7f-901a2b3c4d02",
		"3c1e2f30-4a5b-4c6d-8e7f-901a2b3c4d03",
	} {
		f.rotateOnce(t, ref.ARN, tok, rules)
		cur, _ := stagedValue(t, f.st, ref.ARN, store.Current)
		prev, _ := stagedValue(t, f.st, ref.ARN, store.Previous)
		secrets = append(secrets, cur.Password)
		live, ok := hub.Token(cur.TokenID)
		if !ok || !live.Active || cur.Username != user || live.Label != "rotor:dockerhub-pat:"+tok || !slices.Equal(live.Scopes, []string{"repo:read"}) {
			t.Fatalf("rotation %d: AWSCURRENT's token is %+v (found %v), stored for %q", i+1, live, ok, cur.Username)
		}
		if prev.TokenID != ids[i] {
			t.Errorf("rotation %d: AWSPREVIOUS holds token %s, want %s", i+1, prev.TokenID, ids[i])
		}
		ids = append(ids, cur.TokenID)
		want := []string{cur.TokenID, prev.TokenID}
		slices.Sort(want)
		if got := hub.TokenIDs(user); !slices.Equal(got, want) {
			t.Errorf("rotation %d: the account holds tokens %v, want exactly AWSCURRENT's and AWSPREVIOUS's %v", i+1, got, want)
		}
	}
	if hub.RateLimited() == 0 {
		t.Error("the hub never answered 429: the rate-limit path was not exercised")
	}
	if ssm.Calls() == 0 {
		t.Error("the function never read the account credential from SSM")
	}

	// A failure reaches Slack.
	ssm.PutSecure("DOCKER_HUB_PASSWORD", "not-the-password-any-more")
	failTok := "3c1e2f30-4a5b-4c6d-8e7f-901a2b3c4d04"
	if _, err := f.st.BeginRotation(context.Background(), store.BeginRotationInput{SecretID: ref.ARN, Token: failTok, Rules: &rules}); err != nil {
		t.Fatal(err)
	}
	fe := f.invoke(t, Event{Step: "createSecret", SecretID: ref.ARN, ClientRequestToken: failTok}, 30*time.Second)
	if fe == nil || !strings.Contains(fe.Message, "refused the account credential") {
		t.Fatalf("createSecret with a wrong account password: %v", fe)
	}
	var got []slacktest.Received
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(got) == 0; time.Sleep(50 * time.Millisecond) {
		got = sl.Received()
	}
	if len(got) != 1 || !strings.Contains(string(got[0].Body), "dockerhub-pat") {
		t.Fatalf("Slack received %d messages, want one naming the secret: %v\nstdout:\n%s\nstderr:\n%s", len(got), got, f.stdout, f.stderr)
	}
	checkNoValues(t, "the Slack message", string(got[0].Body), append(secrets, "not-the-password-any-more")...)
	checkNoValues(t, "the function's stdout", f.stdout.String(), secrets...)
	checkNoValues(t, "the function's stderr", f.stderr.String(), secrets...)
	if v := f.rt.Violations(); len(v) != 0 {
		t.Errorf("the function broke the Runtime API protocol:\n%s", strings.Join(v, "\n"))
	}
}
