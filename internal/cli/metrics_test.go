package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// rotor server --metrics-listen serves Prometheus metrics: rotations by
// kind and outcome, step latencies, revocations, and each secret's
// rotation dates, with no secret value anywhere.
func TestServerMetrics(t *testing.T) {
	dir := t.TempDir()
	maddr := make(chan string, 1)
	app := &App{Env: testEnv(dir), MetricsListening: func(a string) { maddr <- a }}
	srv := startServer(t, app, "--check-interval", "0", "--metrics-listen", "127.0.0.1:0")
	var metricsAddr string
	select {
	case metricsAddr = <-maddr:
	case <-time.After(10 * time.Second):
		t.Fatal("no metrics listener")
	}
	ctx := context.Background()
	sm, _ := srv.client(dir)
	const initial = "metrics-initial-value-0a1b2c3d"
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("svc/metered"), SecretString: aws.String(initial),
		Tags: []types.Tag{{Key: aws.String("rotor:kind"), Value: aws.String("password")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for range 2 {
		if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: created.ARN,
			RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}}); err != nil {
			t.Fatal(err)
		}
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: created.ARN})
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, aws.ToString(v.SecretString))
	}

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, text)
	}
	for _, want := range []string{
		`rotor_rotations_total{kind="password",outcome="started"} 2`,
		`rotor_rotations_total{kind="password",outcome="succeeded"} 2`,
		`rotor_step_duration_seconds_count{kind="password",outcome="succeeded",step="testSecret"} 2`,
		`rotor_store_up 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, re := range []string{
		`rotor_secret_last_rotation_timestamp_seconds\{kind="password",secret="svc/metered"\} \d`,
		`rotor_secret_next_rotation_timestamp_seconds\{kind="password",secret="svc/metered"\} \d`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	for _, v := range append(values, initial) {
		if strings.Contains(text, v) {
			t.Fatal("a secret value is in /metrics")
		}
	}
}

func TestMetricsListenStaysLocal(t *testing.T) {
	_, stderr, code := runIn(t, testEnv(t.TempDir()), "", "server", "--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:9464")
	if code != ExitUsage || !strings.Contains(stderr, "--metrics-listen") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// rotor server --ui serves the status page beside /metrics: the secrets
// and the timeline of the rotations the server ran, read-only.
func TestServerStatusPage(t *testing.T) {
	dir := t.TempDir()
	maddr := make(chan string, 1)
	app := &App{Env: testEnv(dir), MetricsListening: func(a string) { maddr <- a }}
	srv := startServer(t, app, "--check-interval", "0", "--metrics-listen", "127.0.0.1:0", "--ui")
	addr := <-maddr
	ctx := context.Background()
	sm, _ := srv.client(dir)
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("svc/paged"), SecretString: aws.String("status-initial-value-9f8e7d6c"),
		Tags: []types.Tag{{Key: aws.String("rotor:kind"), Value: aws.String("password")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: created.ARN,
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"svc/paged", "password", "every 7 days", "succeeded", "RotationSucceeded"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if strings.Contains(string(body), "status-initial-value-9f8e7d6c") {
		t.Fatal("the status page shows a value")
	}
}

func TestUINeedsMetricsListen(t *testing.T) {
	_, stderr, code := runIn(t, testEnv(t.TempDir()), "", "server", "--listen", "127.0.0.1:0", "--ui")
	if code != ExitUsage || !strings.Contains(stderr, "--metrics-listen") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBasicAuth(t *testing.T) {
	h := basicAuth("AKIDEXAMPLE", "secret-key-example-123", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	for _, c := range []struct {
		user, pw string
		set      bool
		want     int
	}{{"", "", false, 401}, {"AKIDEXAMPLE", "wrong", true, 401}, {"other", "secret-key-example-123", true, 401}, {"AKIDEXAMPLE", "secret-key-example-123", true, 200}} {
		req := httptest.NewRequest("GET", "/", nil)
		if c.set {
			req.SetBasicAuth(c.user, c.pw)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("user %q: %d, want %d", c.user, rec.Code, c.want)
		}
		if strings.Contains(rec.Body.String(), "secret-key-example-123") {
			t.Fatal("the answer holds the key")
		}
	}
}
