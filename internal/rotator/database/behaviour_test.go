package database_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/database"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// tricky is a password full of what breaks string-built SQL.
const tricky = `it's "quoted" \back\slash\' ''; DROP ROLE x; -- %L %I %s $1 ? ünïcødé 🔑 ` + "`tick`"

// rotation drives whole rotations of one secret through the engine.
type rotation struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	eng  *engine.Engine
	id   string
	logs *bytes.Buffer
}

func newRotation(t *testing.T, kind rotator.Kind, opts rotator.Options, initial secret.Value) *rotation {
	t.Helper()
	r := &rotation{t: t, ctx: context.Background(), st: local.NewMemory(local.Config{}), logs: &bytes.Buffer{}}
	r.eng = engine.New(engine.Config{Store: r.st, Kinds: rotator.NewRegistry(kind),
		Logger: slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	tags := []store.Tag{{Key: rotator.TagKind, Value: kind.Name}}
	for k, v := range opts {
		tags = append(tags, store.Tag{Key: rotator.TagPrefix + k, Value: v})
	}
	ref, err := r.st.CreateSecret(r.ctx, store.CreateSecretInput{Name: "db/" + strings.ReplaceAll(t.Name(), "/", "-"), Value: &initial, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	r.id = ref.ARN
	return r
}

func (r *rotation) rotate() {
	r.t.Helper()
	if _, err := r.eng.Rotate(r.ctx, engine.RotateInput{SecretID: r.id}); err != nil {
		r.t.Fatalf("rotate: %v", err)
	}
}

func (r *rotation) value(stage string) secret.Value {
	r.t.Helper()
	out, err := r.st.GetSecretValue(r.ctx, store.GetSecretValueInput{SecretID: r.id, VersionStage: stage})
	if err != nil {
		r.t.Fatalf("get %s: %v", stage, err)
	}
	return out.Value
}

// noLeak fails if any password of vals appears in the logs.
func (r *rotation) noLeak(vals ...secret.Value) {
	r.t.Helper()
	for _, v := range vals {
		if _, p := fields(v); p != "" && strings.Contains(r.logs.String(), p) {
			r.t.Errorf("a password appears in the logs")
		}
	}
}

// newWorld makes a user with a password in a fresh server of one engine.
type newWorld func(t *testing.T, strategy, initialPassword string) (*world, secret.Value)

// eachEngine runs f against PostgreSQL and MariaDB.
func eachEngine(t *testing.T, f func(t *testing.T, mk newWorld)) {
	t.Run("postgres", func(t *testing.T) { f(t, pgWorld) })
	t.Run("mysql", func(t *testing.T) { f(t, myWorld) })
}

func TestSingleUserOldPasswordStopsAtTheChange(t *testing.T) {
	eachEngine(t, testSingleUserOldPassword)
}

func testSingleUserOldPassword(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.SingleUser, tricky)
	ctx := context.Background()
	r, err := w.kind.New(w.opts)
	if err != nil {
		t.Fatal(err)
	}
	req := rotator.Request{Current: initial, Token: "t1"}
	pending, err := r.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Pending = pending
	if err := r.Test(ctx, req); err == nil {
		t.Fatal("testSecret passed before setSecret set the password")
	}
	if err := r.Set(ctx, req); err != nil {
		t.Fatalf("setSecret: %v", err)
	}
	if w.works(ctx, w.user, tricky) {
		t.Error("the old password still works after setSecret changed it")
	}
	if err := r.Test(ctx, req); err != nil {
		t.Fatalf("testSecret after setSecret: %v", err)
	}
	// A retried setSecret (a crash before finishSecret) finds the
	// password set and succeeds without changing it.
	if err := r.Set(ctx, req); err != nil {
		t.Fatalf("setSecret retried: %v", err)
	}
	_, pw := fields(pending)
	if !w.works(ctx, w.user, pw) {
		t.Error("the pending password does not work after a retried setSecret")
	}
	// Other fields survive, in the database format.
	var got map[string]any
	if err := json.Unmarshal(pending.Bytes(), &got); err != nil || got["note"] != "kept" || got["engine"] != w.engine || got["host"] != w.srv.Host {
		t.Errorf("the pending value lost fields: %v", err)
	}

	// The next rotation's setSecret falls back on AWSPREVIOUS when
	// AWSCURRENT no longer works (AWS's templates do the same): here the
	// database holds the pending password and AWSCURRENT a stale one.
	next := rotator.Request{Current: initial, Previous: pending, Token: "t2"}
	p2, err := r.Create(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	next.Pending = p2
	if err := r.Set(ctx, next); err != nil {
		t.Fatalf("setSecret with only AWSPREVIOUS working: %v", err)
	}
	if err := r.Test(ctx, next); err != nil {
		t.Fatal(err)
	}
	// The password of an abandoned rotation is changed back to
	// AWSCURRENT's by its revocation.
	abandon := rotator.Request{Current: p2, Pending: initial}
	if err := r.Revoke(ctx, abandon); err != nil {
		t.Fatalf("revoke the abandoned rotation's password: %v", err)
	}
	_, pw2 := fields(p2)
	if !w.works(ctx, w.user, pw2) || w.works(ctx, w.user, tricky) {
		t.Error("after revoking an abandoned password, AWSCURRENT's does not work or the abandoned one still does")
	}
}

// A password of quotes, backslashes, format directives and unicode is set
// and used as it is.
func TestTrickyPassword(t *testing.T) { eachEngine(t, testTrickyPassword) }

func testTrickyPassword(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.SingleUser, "plain-Start-1")
	ctx := context.Background()
	r, err := w.kind.New(w.opts)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(initial.Bytes(), &m)
	m["password"] = tricky
	b, _ := json.Marshal(m)
	req := rotator.Request{Current: initial, Pending: secret.New(string(b))}
	if err := r.Set(ctx, req); err != nil {
		t.Fatalf("setSecret: %v", err)
	}
	if err := r.Test(ctx, req); err != nil {
		t.Fatalf("testSecret: %v", err)
	}
	if !w.works(ctx, w.user, tricky) {
		t.Fatal("the tricky password does not log in")
	}
	// And back again, logged in with it.
	back := rotator.Request{Current: req.Pending, Pending: initial}
	if err := r.Set(ctx, back); err != nil {
		t.Fatalf("setSecret from the tricky password: %v", err)
	}
	if !w.works(ctx, w.user, "plain-Start-1") {
		t.Fatal("the password set while logged in with the tricky one does not work")
	}
}

// alternating-users: the clone has the user's privileges, and a password
// keeps working until it leaves AWSPREVIOUS, then stops.
func TestAlternatingUsers(t *testing.T) { eachEngine(t, testAlternatingUsers) }

func testAlternatingUsers(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.AlternatingUsers, tricky)
	ctx := context.Background()
	canRead := w.grantRead(t)
	rot := newRotation(t, w.kind, w.opts, initial)
	rot.rotate()
	cur := rot.value(store.Current)
	u1, p1 := fields(cur)
	if u1 != w.user+database.DefaultCloneSuffix {
		t.Fatalf("the first rotation's user is %s, want the clone %s", u1, w.user+database.DefaultCloneSuffix)
	}
	if err := canRead(ctx, u1, p1); err != nil {
		t.Errorf("the clone cannot read what the user can: %v", err)
	}
	if !w.works(ctx, w.user, tricky) {
		t.Error("the initial password (now AWSPREVIOUS) stopped working")
	}
	rot.rotate()
	u2, p2 := fields(rot.value(store.Current))
	if u2 != w.user {
		t.Errorf("the second rotation's user is %s, want %s", u2, w.user)
	}
	if w.works(ctx, w.user, tricky) {
		t.Error("the initial password still works after it left AWSPREVIOUS")
	}
	if !w.works(ctx, u1, p1) || !w.works(ctx, u2, p2) {
		t.Error("AWSCURRENT or AWSPREVIOUS does not work")
	}
	rot.rotate()
	if w.works(ctx, u1, p1) {
		t.Error("the clone's first password still works after it left AWSPREVIOUS")
	}
	rot.noLeak(initial, cur)
}

// A setSecret that died after creating the clone, before giving it the
// user's privileges, is retried: the clone then holds them.
func TestAlternatingCloneInterrupted(t *testing.T) { eachEngine(t, testAlternatingCloneInterrupted) }

func testAlternatingCloneInterrupted(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.AlternatingUsers, "initial-Password-1")
	ctx := context.Background()
	canRead := w.grantRead(t)
	w.bareUser(t, w.user+database.DefaultCloneSuffix, "what-the-dead-attempt-set-1")
	rot := newRotation(t, w.kind, w.opts, initial)
	rot.rotate()
	u, p := fields(rot.value(store.Current))
	if err := canRead(ctx, u, p); err != nil {
		t.Errorf("the clone of an interrupted setSecret lacks the user's privileges after the retry: %v", err)
	}
	if w.works(ctx, u, "what-the-dead-attempt-set-1") {
		t.Error("the dead attempt's password still works")
	}
}

// revoke-at-finish with alternating users: the old user's password stops
// working when the rotation finishes.
func TestAlternatingRevokeAtFinish(t *testing.T) { eachEngine(t, testAlternatingRevokeAtFinish) }

func testAlternatingRevokeAtFinish(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.AlternatingUsers, "initial-Password-1")
	opts := rotator.Merge(w.opts, rotator.Options{rotator.OptRevokeAtFinish: "true"})
	rot := newRotation(t, w.kind, opts, initial)
	rot.rotate()
	if w.works(context.Background(), w.user, "initial-Password-1") {
		t.Error("the old user's password works after a rotation with revoke-at-finish")
	}
}

// TLS is used by default: the server accepts only TLS, so tls=false
// fails; without ca-file the connection is encrypted but unverified; a CA
// that did not sign the server's certificate is refused.
func TestTLS(t *testing.T) { eachEngine(t, testTLS) }

func testTLS(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.SingleUser, "initial-Password-1")
	ctx := context.Background()
	test := func(opts rotator.Options) error {
		r, err := w.kind.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return r.Test(ctx, rotator.Request{Pending: initial})
	}
	if err := test(rotator.Options{database.OptCAFile: w.srv.CAFile}); err != nil {
		t.Errorf("verify-full against the server's CA: %v", err)
	}
	if err := test(rotator.Options{}); err != nil {
		t.Errorf("TLS without a CA (require): %v", err)
	}
	if err := test(rotator.Options{database.OptTLS: "false"}); err == nil {
		t.Error("tls=false connected to a server that accepts only TLS")
	}
	other := dbtest.OtherCA(t)
	if err := test(rotator.Options{database.OptCAFile: other}); err == nil {
		t.Error("a CA that did not sign the server's certificate was accepted")
	}
	if _, err := w.kind.New(rotator.Options{database.OptStrategy: "both"}); err == nil || !strings.Contains(err.Error(), database.OptStrategy) {
		t.Errorf("an unknown strategy: %v, want an error naming the option", err)
	}
}

// Errors name what failed and carry no password, even when every
// credential is refused.
func TestErrorsCarryNoPassword(t *testing.T) { eachEngine(t, testErrorsCarryNoPassword) }

func testErrorsCarryNoPassword(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.SingleUser, tricky)
	ctx := context.Background()
	r, _ := w.kind.New(w.opts)
	var m map[string]any
	_ = json.Unmarshal(initial.Bytes(), &m)
	m["password"] = "wrong-" + tricky
	stale, _ := json.Marshal(m)
	m["password"] = "pending-" + tricky
	pend, _ := json.Marshal(m)
	req := rotator.Request{Current: secret.New(string(stale)), Pending: secret.New(string(pend))}
	err := r.Set(ctx, req)
	if err == nil {
		t.Fatal("setSecret succeeded with no working credential")
	}
	for _, p := range []string{tricky, "wrong-", "pending-"} {
		if strings.Contains(err.Error(), p) {
			t.Errorf("the error carries a password: %v", err)
		}
	}
	if !strings.Contains(err.Error(), w.user) {
		t.Errorf("the error does not name the user: %v", err)
	}
}
