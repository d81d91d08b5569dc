package dockerhub_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub/hubtest"
	"github.com/rotorhq/rotor/internal/secret"
)

const token1 = "0f6f9d2e-8b7a-4c1d-9e3f-2a1b0c9d8e71"

func newRotator(t *testing.T, w *world, extra rotator.Options) rotator.Rotator {
	t.Helper()
	r, err := dockerhub.Kind(w.deps()).New(rotator.Merge(w.opts(), extra))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func req(name, tok string, cur secret.Value) rotator.Request {
	return rotator.Request{SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name, Name: name, Token: tok, Current: cur}
}

// A retried Create (its first answer lost) leaves one token for the
// rotation, not two, and the value it returns works.
func TestCreateRetryLeavesOneToken(t *testing.T) {
	w := newWorld(t, hubtest.Config{})
	r := newRotator(t, w, nil)
	ctx := context.Background()
	cur := w.initial()
	if _, err := r.Create(ctx, req("ci/docker", token1, cur)); err != nil {
		t.Fatal(err)
	}
	v, err := r.Create(ctx, req("ci/docker", token1, cur))
	if err != nil {
		t.Fatal(err)
	}
	toks := w.hub.Tokens(user)
	if len(toks) != 2 {
		t.Fatalf("%d tokens after a retried Create, want the initial one and one new: %+v", len(toks), toks)
	}
	if err := r.Test(ctx, rotator.Request{Name: "ci/docker", Pending: v}); err != nil {
		t.Errorf("the retried Create's token does not work: %v", err)
	}
	// A token of another rotation of this secret that no version holds
	// (abandoned) goes at the next Create; tokens rotor did not label stay.
	handID, _ := w.hub.IssueToken(user, "rotor:someone else's:label")
	if _, err := r.Create(ctx, req("ci/docker", "1f6f9d2e-8b7a-4c1d-9e3f-2a1b0c9d8e72", cur)); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.hub.Token(field(v, "token_id")); ok {
		t.Error("the abandoned rotation's token survived the next Create")
	}
	if _, ok := w.hub.Token(handID); !ok {
		t.Error("Create deleted a token whose label rotor did not write")
	}
	if _, ok := w.hub.Token(field(cur, "token_id")); !ok {
		t.Error("Create deleted AWSCURRENT's token")
	}
}

// A login opened with a personal access token cannot manage tokens: the
// error says to use the password or an organisation credential.
func TestPATLoginRefused(t *testing.T) {
	w := newWorld(t, hubtest.Config{})
	_, pat := w.hub.IssueToken(user, "a PAT put where the password belongs")
	w.ssm.PutSecure("DOCKER_HUB_PASSWORD", pat)
	r := newRotator(t, w, nil)
	_, err := r.Create(context.Background(), req("ci/docker", token1, w.initial()))
	if err == nil || !errors.Is(err, rotator.ErrPermanent) || !strings.Contains(err.Error(), "password") || !strings.Contains(err.Error(), "organisation") {
		t.Fatalf("Create with a PAT-derived login: %v; want a permanent error saying to use the password or an organisation credential", err)
	}
	if strings.Contains(err.Error(), pat) {
		t.Error("the error holds the token")
	}
}

// The older login endpoint is used only when /v2/auth/token is absent.
func TestLoginFallback(t *testing.T) {
	w := newWorld(t, hubtest.Config{NoAuthToken: true})
	r := newRotator(t, w, nil)
	if _, err := r.Create(context.Background(), req("ci/docker", token1, w.initial())); err != nil {
		t.Fatal(err)
	}
	w.ssm.PutSecure("DOCKER_HUB_PASSWORD", "wrong")
	_, err := r.Create(context.Background(), req("ci/docker", token1, w.initial()))
	if !errors.Is(err, rotator.ErrPermanent) || !strings.Contains(err.Error(), "refused the account credential") {
		t.Errorf("a wrong password: %v", err)
	}
}

// 429 with Retry-After is waited out when the step's deadline allows, and
// fails at once when it does not.
func TestRateLimit(t *testing.T) {
	w := newWorld(t, hubtest.Config{})
	r := newRotator(t, w, nil)
	w.hub.Burst(2, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.Create(ctx, req("ci/docker", token1, w.initial())); err != nil {
		t.Fatal(err)
	}
	if len(w.slept) != 2 || w.slept[0] != 2*time.Second || w.slept[1] != 3*time.Second {
		t.Errorf("waits %v, want 2s then 3s as Retry-After said", w.slept)
	}
	w.hub.Burst(120)
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	_, err := r.Create(short, req("ci/docker", token1, w.initial()))
	if !errors.Is(err, dockerhub.ErrRateLimited) || len(w.slept) != 2 {
		t.Errorf("a Retry-After beyond the deadline: %v after waits %v; want ErrRateLimited without waiting", err, w.slept)
	}
}

// Every page of the token list is read: the orphan on the last page goes.
func TestPagination(t *testing.T) {
	w := newWorld(t, hubtest.Config{MaxPageSize: 2})
	for range 7 {
		w.hub.IssueToken(user, "someone's token")
	}
	r := newRotator(t, w, nil)
	ctx := context.Background()
	cur := w.initial()
	if _, err := r.Create(ctx, req("ci/docker", token1, cur)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, req("ci/docker", token1, cur)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tok := range w.hub.Tokens(user) {
		if strings.HasSuffix(tok.Label, token1) {
			n++
		}
	}
	if n != 1 || len(w.hub.Tokens(user)) != 9 {
		t.Errorf("%d tokens of the rotation, %d in all; want 1 and 9", n, len(w.hub.Tokens(user)))
	}
}

// Long secret names give labels within Docker Hub's 100 characters that
// stay distinct and are recognised again.
func TestLongNames(t *testing.T) {
	w := newWorld(t, hubtest.Config{})
	r := newRotator(t, w, nil)
	ctx := context.Background()
	long := strings.Repeat("team/registry/pull-credentials/", 5)
	for _, name := range []string{long + "a", long + "b"} {
		for range 2 { // the second one must replace the first
			if _, err := r.Create(ctx, req(name, token1, w.initial())); err != nil {
				t.Fatal(err)
			}
		}
	}
	labels := map[string]bool{}
	for _, tok := range w.hub.Tokens(user) {
		if strings.HasPrefix(tok.Label, "rotor:") {
			if n := len([]rune(tok.Label)); n > 100 {
				t.Errorf("label of %d characters", n)
			}
			labels[tok.Label] = true
		}
	}
	if len(labels) != 2 {
		t.Errorf("labels %v, want two distinct ones", labels)
	}
}

// Test refuses a deactivated token; Revoke deactivates and deletes.
func TestTestAndRevoke(t *testing.T) {
	w := newWorld(t, hubtest.Config{})
	r := newRotator(t, w, nil)
	ctx := context.Background()
	v, err := r.Create(ctx, req("ci/docker", token1, w.initial()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Revoke(ctx, rotator.Request{Name: "ci/docker", Pending: v}); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.hub.Token(field(v, "token_id")); ok {
		t.Error("the revoked token still exists")
	}
	if err := r.Test(ctx, rotator.Request{Name: "ci/docker", Pending: v}); err == nil {
		t.Error("Test accepted a revoked token")
	}
	if err := r.Revoke(ctx, rotator.Request{Name: "ci/docker", Pending: v}); err != nil {
		t.Errorf("revoking a token that is gone: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []rotator.Options{
		{dockerhub.OptScopes: "repo:everything", dockerhub.OptAccountSecret: "x"},
		{dockerhub.OptHubURL: "ftp://x", dockerhub.OptAccountSecret: "x"},
		{}, // no account credential
	} {
		if _, err := dockerhub.New(dockerhub.Deps{}, o); err == nil {
			t.Errorf("options %v accepted", o)
		}
	}
}
