package database_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/database"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const masterARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf"

// secrets is a SecretReader holding the master secret.
type secrets map[string]secret.Value

func (s secrets) ReadSecret(_ context.Context, id string) (secret.Value, error) {
	v, ok := s[id]
	if !ok {
		return secret.Value{}, fmt.Errorf("secret %s not found", id)
	}
	return v, nil
}

func dbValue(engine string, srv *dbtest.Server, user, pw string, master bool) secret.Value {
	m := map[string]any{"engine": engine, "host": srv.Host, "port": srv.Port, "username": user, "password": pw, "dbname": srv.Database, "note": "kept"}
	if master {
		m["masterarn"] = masterARN
	}
	b, _ := json.Marshal(m)
	return secret.New(string(b))
}

func fields(v secret.Value) (user, pw string) {
	var o struct{ Username, Password string }
	_ = json.Unmarshal(v.Bytes(), &o)
	return o.Username, o.Password
}

// world is one harness's database users, seen from outside rotor.
type world struct {
	engine string
	srv    *dbtest.Server
	user   string
	kind   rotator.Kind
	opts   rotator.Options
	// works logs in as user with pw.
	works func(ctx context.Context, user, pw string) bool
	// hasPassword reports whether user exists with a password that can log in.
	hasPassword func(ctx context.Context, user string) bool
	// grantRead lets the user read a new table and returns a check that
	// a credential can read it.
	grantRead func(t *testing.T) func(ctx context.Context, user, pw string) error
	// bareUser creates a user with a password and no privileges.
	bareUser func(t *testing.T, user, pw string)
	mu       sync.Mutex
	seen     map[[2]string]bool
}

func (w *world) id(v secret.Value) string {
	u, p := fields(v)
	w.mu.Lock()
	w.seen[[2]string{u, p}] = true
	w.mu.Unlock()
	return database.CredentialID(u, p)
}

// live lists, for the user and its clone, the credential the database
// accepts: one rotor's values held, or "<user>/unknown" for a password
// no value holds (an orphan).
func (w *world) live(ctx context.Context) ([]string, error) {
	w.mu.Lock()
	var cands [][2]string
	for c := range w.seen {
		cands = append(cands, c)
	}
	w.mu.Unlock()
	var out []string
	for _, u := range []string{w.user, w.user + database.DefaultCloneSuffix} {
		found := false
		for _, c := range cands {
			if c[0] == u && w.works(ctx, c[0], c[1]) {
				out = append(out, database.CredentialID(c[0], c[1]))
				found = true
				break
			}
		}
		if !found && w.hasPassword(ctx, u) {
			out = append(out, u+"/unknown")
		}
	}
	return out, nil
}

// recording wraps a Rotator so that the world knows every value it made.
type recording struct {
	rotator.Rotator
	w *world
}

func (r recording) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	v, err := r.Rotator.Create(ctx, req)
	if err == nil {
		r.w.id(v)
	}
	return v, err
}

func (r recording) Capabilities() rotator.Capabilities { return rotator.CapabilitiesOf(r.Rotator) }
func (r recording) CredentialID(v secret.Value) string {
	return r.Rotator.(rotator.Identifier).CredentialID(v)
}

// conformance runs the conformance suite on the kind over a fresh world of
// newWorld's engine for each case.
func conformance(t *testing.T, newWorld func(*testing.T, string, string) (*world, secret.Value), strategy string, inPlace bool) {
	rotatortest.Run(t, rotatortest.Config{
		NewStore: func(*testing.T) store.Store { return local.NewMemory(local.Config{}) },
		NewHarness: func(t *testing.T) *rotatortest.Harness {
			w, initial := newWorld(t, strategy, "initial-Password-1")
			return w.harness(initial, inPlace)
		},
		Short: testing.Short(),
	})
}

func (w *world) harness(initial secret.Value, inPlace bool) *rotatortest.Harness {
	k := w.kind
	inner := k.New
	k.New = func(o rotator.Options) (rotator.Rotator, error) {
		r, err := inner(o)
		if err != nil {
			return nil, err
		}
		return recording{Rotator: r, w: w}, nil
	}
	return &rotatortest.Harness{
		Kind: k, Options: w.opts, Initial: initial, InPlace: inPlace,
		Live: w.live, ID: w.id,
		Secrets: func(v secret.Value) []string { _, p := fields(v); return []string{v.Text(), p} },
	}
}

func pgWorld(t *testing.T, strategy, initialPassword string) (*world, secret.Value) {
	srv := dbtest.Postgres(t)
	admin := srv.PgAdmin(t)
	ctx := context.Background()
	user := dbtest.Name("app")
	var stmt string
	if err := admin.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", user, initialPassword).Scan(&stmt); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, stmt); err != nil {
		t.Fatalf("create the role: %v", err)
	}
	alt := strategy == database.AlternatingUsers
	w := &world{engine: "postgres", srv: srv, user: user, seen: map[[2]string]bool{},
		kind: database.Postgres(database.Deps{Secrets: secrets{masterARN: dbValue("postgres", srv, srv.User, srv.Password, false)}}),
		opts: rotator.Options{database.OptStrategy: strategy, database.OptCAFile: srv.CAFile},
		works: func(ctx context.Context, u, p string) bool {
			c, err := srv.PgConnect(ctx, u, p)
			if err != nil {
				return false
			}
			c.Close(ctx)
			return true
		},
		hasPassword: func(ctx context.Context, u string) bool {
			var ok bool
			_ = admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_authid WHERE rolname = $1 AND rolcanlogin AND rolpassword IS NOT NULL)", u).Scan(&ok)
			return ok
		},
	}
	w.grantRead = func(t *testing.T) func(ctx context.Context, user, pw string) error {
		table := dbtest.Name("t")
		for _, q := range []string{"CREATE TABLE " + table + " (n int)", "INSERT INTO " + table + " VALUES (42)", "GRANT SELECT ON " + table + " TO " + user} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		return func(ctx context.Context, u, p string) error {
			c, err := srv.PgConnect(ctx, u, p)
			if err != nil {
				return err
			}
			defer c.Close(ctx)
			var n int
			if err := c.QueryRow(ctx, "SELECT n FROM "+table).Scan(&n); err != nil || n != 42 {
				return fmt.Errorf("read %d: %v", n, err)
			}
			return nil
		}
	}
	w.bareUser = func(t *testing.T, u, p string) {
		var stmt string
		if err := admin.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", u, p).Scan(&stmt); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	initial := dbValue("postgres", srv, user, initialPassword, alt)
	w.id(initial)
	return w, initial
}

func TestPostgresSingleUserConformance(t *testing.T) {
	conformance(t, pgWorld, database.SingleUser, true)
}

func TestPostgresAlternatingConformance(t *testing.T) {
	conformance(t, pgWorld, database.AlternatingUsers, false)
}

// The generated passwords never reach the server, not even its statement
// log (log_statement=all): only their SCRAM verifiers do.
func TestPostgresPasswordsNeverReachTheServer(t *testing.T) {
	for _, strategy := range []string{database.SingleUser, database.AlternatingUsers} {
		t.Run(strategy, func(t *testing.T) {
			w, initial := pgWorld(t, strategy, "initial-Password-1")
			rot := newRotation(t, w.kind, w.opts, initial)
			var pws []string
			for range 3 {
				rot.rotate()
				_, p := fields(rot.value(store.Current))
				pws = append(pws, p)
			}
			log, err := os.ReadFile(w.srv.LogFile)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(log), "SCRAM-SHA-256$4096:") {
				t.Fatal("the server's log shows no verifier: statements are not logged, the test proves nothing")
			}
			for _, p := range pws {
				if strings.Contains(string(log), p) {
					t.Errorf("a generated password appears in the server's statement log")
				}
			}
		})
	}
}
