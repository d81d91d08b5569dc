package statuspage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/statuspage"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// fixture is a store with a rotated password, a secret whose rotation
// fails, one with an incomplete rotation, and one without rotation; the
// engine's audit events go to a ring.
type fixture struct {
	st      *local.Store
	ring    *audit.Ring
	secrets []string // values that must never be shown
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{st: local.NewMemory(local.Config{}), ring: audit.NewRing(1000)}
	tg := rotatortest.NewTarget()
	eng := engine.New(engine.Config{Store: f.st, Kinds: rotator.NewRegistry(password.Kind(), rotatortest.TargetKind(tg, false)),
		Audit: f.ring.Sink()})
	create := func(name, kind string, v secret.Value) string {
		t.Helper()
		ref, err := f.st.CreateSecret(ctx, store.CreateSecretInput{Name: name, Value: &v, Tags: []store.Tag{{Key: rotator.TagKind, Value: kind}}})
		if err != nil {
			t.Fatal(err)
		}
		f.secrets = append(f.secrets, v.Text())
		return ref.ARN
	}
	db := create("app/db-password", "password", secret.New("first-password-value-1234"))
	for range 2 {
		if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: db, Rules: &store.RotationRules{AutomaticallyAfterDays: 30}}); err != nil {
			t.Fatal(err)
		}
	}
	bad := create("app/broken", "password", secret.New("broken-password-value-1234"))
	if err := f.st.TagResource(ctx, bad, []store.Tag{{Key: "rotor:length", Value: "0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: bad}); err == nil {
		t.Fatal("a rotation with length=0 succeeded")
	}
	half := create("app/half-done", "target", tg.Issue("half"))
	if _, err := f.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: half, Token: "7b0c1c5e-0000-4000-8000-000000000001"}); err != nil {
		t.Fatal(err)
	}
	create("plain/config", "", secret.New("not-rotated-config-value"))
	for _, id := range []string{db} {
		v, err := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: id})
		if err != nil {
			t.Fatal(err)
		}
		f.secrets = append(f.secrets, v.Value.Text())
	}
	return f
}

func (f *fixture) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(statuspage.Handler(statuspage.Config{Store: f.st, Events: f.ring}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

func TestPage(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t)
	body := get(t, srv.URL+"/")
	for _, want := range []string{"app/db-password", "every 30 days", "AWSCURRENT", "AWSPREVIOUS", "succeeded",
		"app/broken", "failed", "length", "app/half-done", "incomplete", "plain/config", "RotationSucceeded", "RotationFailed"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script: it must work without JavaScript")
	}
	one := get(t, srv.URL+"/?secret=app/broken")
	if strings.Contains(one, "app/db-password") || !strings.Contains(one, "app/broken") {
		t.Error("?secret= does not narrow the page to one secret")
	}
	for _, s := range f.secrets {
		if strings.Contains(body, s) || strings.Contains(one, s) {
			t.Fatal("the page shows a secret value")
		}
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
	if resp == nil || resp.StatusCode == http.StatusOK {
		t.Error("the page accepts POST; it is read-only")
	}
}

// TestPageInBrowser loads the page in headless Chromium, checks the text
// it renders, and keeps a screenshot in $ROTOR_TEST_ARTIFACTS (default
// .artifacts at the repository root).
func TestPageInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's chromium")
		}
		t.Skip("chromium is not installed (Debian package chromium); skipping the browser test")
	}
	f := newFixture(t)
	srv := f.server(t)
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--user-data-dir=" + t.TempDir()}
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(flags, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	dom := string(run("--dump-dom", srv.URL+"/"))
	for _, want := range []string{"rotor status", "app/db-password", "app/broken", "failed", "incomplete", "Timeline"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	dir := artifacts(t)
	shot := filepath.Join(dir, "status-page.png")
	run("--window-size=1400,900", "--screenshot="+shot, srv.URL+"/")
	b, err := os.ReadFile(shot)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("no screenshot at %s (%d bytes, %v)", shot, len(b), err)
	}
	t.Logf("screenshot: %s", shot)
}

func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ROTOR_TEST_ARTIFACTS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}
