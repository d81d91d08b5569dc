package metrics_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

func count(t *testing.T, m *metrics.Metrics, service, result string) float64 {
	t.Helper()
	fams, _ := scrape(t, m.Handler(), "")
	for _, mt := range fams["rotor_external_calls_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range mt.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["service"] == service && labels["result"] == result {
			return mt.GetCounter().GetValue()
		}
	}
	return 0
}

// TestTransport: HTTP calls count by the status class of their answer, and
// a call that gets none counts as an error.
func TestTransport(t *testing.T) {
	m := metrics.New(nil, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/denied":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	c := metrics.HTTPClient("test-http", 5*time.Second)
	before := map[string]float64{}
	for _, r := range []string{metrics.ResultOK, metrics.ResultClientError, metrics.ResultServerError, metrics.ResultError} {
		before[r] = count(t, m, "test-http", r)
	}
	for _, p := range []string{"/ok", "/ok", "/denied", "/broken"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if _, err := c.Get(srv.URL + "/ok"); err == nil {
		t.Fatal("a closed server answered")
	}
	for r, want := range map[string]float64{metrics.ResultOK: 2, metrics.ResultClientError: 1, metrics.ResultServerError: 1, metrics.ResultError: 1} {
		if got := count(t, m, "test-http", r) - before[r]; got != want {
			t.Errorf("result %s: %v calls, want %v", r, got, want)
		}
	}
}

// TestAWSCalls: the SDK middleware counts each API call by service, with
// a refused signature as a client error.
func TestAWSCalls(t *testing.T) {
	m := metrics.New(nil, nil)
	iam := iamtest.New(iamtest.Config{})
	defer iam.Close()
	if err := iam.AddUser(iamtest.User{Name: "u"}); err != nil {
		t.Fatal(err)
	}
	good, _ := iam.SeedKey("u")
	call := func(creds aws.Credentials) error {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.StaticCredentialsProvider{Value: creds},
			Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
		metrics.AWSCalls(&cfg)
		_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(iam.URL) }).
			GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	ok0, bad0 := count(t, m, "sts", metrics.ResultOK), count(t, m, "sts", metrics.ResultClientError)
	if err := call(good); err != nil {
		t.Fatal(err)
	}
	if err := call(aws.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}); err == nil {
		t.Fatal("an unknown key was accepted")
	}
	if got := count(t, m, "sts", metrics.ResultOK) - ok0; got != 1 {
		t.Errorf("sts ok calls %v, want 1", got)
	}
	if got := count(t, m, "sts", metrics.ResultClientError) - bad0; got != 1 {
		t.Errorf("sts client_error calls %v, want 1", got)
	}
}

// TestCredentialExpiry: seconds until the current credential expires, read
// once per version.
func TestCredentialExpiry(t *testing.T) {
	ctx := context.Background()
	st := local.NewMemory(local.Config{})
	v := secret.New(`{"token":"x"}`)
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "pull", Value: &v,
		Tags: []store.Tag{{Key: "rotor:kind", Value: "ecr"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: ref.ARN, Token: "aaaaaaaa-0000-4000-8000-000000000001"}); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(st, nil)
	reads := 0
	m.SetExpiry(func(_ context.Context, d *store.Description) (time.Time, bool, error) {
		reads++
		return time.Now().Add(2 * time.Hour), true, nil
	})
	for range 3 {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		text := rec.Body.String()
		if !strings.Contains(text, `rotor_secret_credential_expiry_seconds{kind="ecr",secret="pull"} 7`) {
			t.Fatalf("no expiry of about 7200s:\n%s", text)
		}
	}
	if reads != 1 {
		t.Errorf("the value was read %d times for one version, want once", reads)
	}
}

// TestEMFCalls: in Lambda mode each external call is an embedded-metric-
// format line too.
func TestEMFCalls(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	metrics.OnCall(metrics.EMFCalls(w, time.Now))
	defer metrics.OnCall(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer srv.Close()
	resp, err := metrics.HTTPClient("jfrog", 5*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	line := buf.String()
	mu.Unlock()
	var got struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace string
				Metrics   []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Service, Result string
		ExternalCalls   float64
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not one JSON line: %q", line)
	}
	if got.Service != "jfrog" || got.Result != metrics.ResultClientError || got.ExternalCalls != 1 ||
		len(got.AWS.CloudWatchMetrics) != 1 || got.AWS.CloudWatchMetrics[0].Namespace != metrics.EMFNamespace {
		t.Errorf("EMF line %s", line)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
