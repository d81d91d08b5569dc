package metrics_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// scrape GETs /metrics from h, with the Accept-Encoding given, and parses
// the answer with Prometheus's own text parser, which fails the test on
// anything Prometheus would refuse. It returns the families and the text.
func scrape(t *testing.T, h http.Handler, acceptEncoding string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); expfmt.ResponseFormat(rec.Header()).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("Content-Type %q is not the Prometheus text format", ct)
	}
	var body io.Reader = rec.Body
	if rec.Header().Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = gz
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus cannot parse the scrape: %v\n%s", err, text)
	}
	return fams, string(text)
}

// linesOf is the lines of text that belong to the families named,
// comments included, in their order.
func linesOf(text string, names ...string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		for _, n := range names {
			rest, _ := strings.CutPrefix(line, "# HELP ")
			rest, _ = strings.CutPrefix(rest, "# TYPE ")
			if after, ok := strings.CutPrefix(rest, n); ok && (after[0] == ' ' || after[0] == '{' || strings.HasPrefix(after, "_bucket") || strings.HasPrefix(after, "_sum") || strings.HasPrefix(after, "_count")) {
				b.WriteString(line)
				break
			}
		}
	}
	return b.String()
}

var events = []audit.Event{
	{Type: audit.RotationStarted, Kind: "jfrog", Secret: "s"},
	{Type: audit.StepSucceeded, Kind: "jfrog", Step: "createSecret", DurationMS: 120},
	{Type: audit.StepFailed, Kind: "jfrog", Step: "testSecret", DurationMS: 30, Error: "refused"},
	{Type: audit.RotationFailed, Kind: "jfrog", Step: "testSecret"},
	{Type: audit.RevocationSucceeded, Kind: "jfrog"},
	{Type: audit.RotationSucceeded, Kind: ""},
}

func TestSink(t *testing.T) {
	m := metrics.New(nil, nil)
	sink := m.Sink()
	for _, e := range events {
		sink(context.Background(), e)
	}
	fams, text := scrape(t, m.Handler(), "")
	want := `# HELP rotor_revocations_total Revocations of old credentials by kind and outcome.
# TYPE rotor_revocations_total counter
rotor_revocations_total{kind="jfrog",outcome="succeeded"} 1
# HELP rotor_rotations_total Whole rotations by kind and outcome (started, succeeded, failed, abandoned).
# TYPE rotor_rotations_total counter
rotor_rotations_total{kind="jfrog",outcome="failed"} 1
rotor_rotations_total{kind="jfrog",outcome="started"} 1
rotor_rotations_total{kind="unknown",outcome="succeeded"} 1
`
	if got := linesOf(text, "rotor_rotations_total", "rotor_revocations_total"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	steps := fams["rotor_step_duration_seconds"]
	if steps.GetType() != dto.MetricType_HISTOGRAM || len(steps.GetMetric()) != 2 {
		t.Fatalf("step histograms: %v, want 2 (succeeded createSecret, failed testSecret)", steps)
	}
	// Labels in name order; 0.12 s is in the 0.25 bucket and above, not
	// in the 0.1 one.
	for _, line := range []string{
		`rotor_step_duration_seconds_bucket{kind="jfrog",outcome="succeeded",step="createSecret",le="0.1"} 0`,
		`rotor_step_duration_seconds_bucket{kind="jfrog",outcome="succeeded",step="createSecret",le="0.25"} 1`,
		`rotor_step_duration_seconds_bucket{kind="jfrog",outcome="succeeded",step="createSecret",le="+Inf"} 1`,
		`rotor_step_duration_seconds_sum{kind="jfrog",outcome="succeeded",step="createSecret"} 0.12`,
		`rotor_step_duration_seconds_count{kind="jfrog",outcome="failed",step="testSecret"} 1`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("the scrape lacks %s", line)
		}
	}
}

// TestScrape: a whole scrape parses, with the per-secret gauges, the Go
// runtime's families and, on Linux, the process's, under the types
// Prometheus's Go client gives them; gzip is served to a scraper that
// asks for it.
func TestScrape(t *testing.T) {
	ctx := context.Background()
	st := local.NewMemory(local.Config{})
	v := secret.New("scrape-test-value-3c4d5e6f")
	if _, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "svc/scraped", Value: &v,
		Tags: []store.Tag{{Key: "rotor:kind", Value: "password"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: "svc/scraped", Token: "aaaaaaaa-0000-4000-8000-000000000002"}); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(st, nil)
	plain, text := scrape(t, m.Handler(), "")
	if strings.Contains(text, "scrape-test-value") {
		t.Fatal("a secret value is in the scrape")
	}
	want := map[string]dto.MetricType{
		"rotor_secret_rotation_incomplete":             dto.MetricType_GAUGE,
		"rotor_secret_revocations_due":                 dto.MetricType_GAUGE,
		"rotor_store_up":                               dto.MetricType_GAUGE,
		"go_goroutines":                                dto.MetricType_GAUGE,
		"go_threads":                                   dto.MetricType_GAUGE,
		"go_info":                                      dto.MetricType_GAUGE,
		"go_memstats_alloc_bytes_total":                dto.MetricType_COUNTER,
		"go_memstats_heap_inuse_bytes":                 dto.MetricType_GAUGE,
		"go_gc_duration_seconds":                       dto.MetricType_SUMMARY,
		"go_gc_gogc_percent":                           dto.MetricType_GAUGE,
		"go_gc_gomemlimit_bytes":                       dto.MetricType_GAUGE,
		"go_memstats_mspan_inuse_bytes":                dto.MetricType_GAUGE,
		"go_memstats_other_sys_bytes":                  dto.MetricType_GAUGE,
		"rotor_secret_last_rotation_timestamp_seconds": -1, // never rotated
	}
	if runtime.GOOS == "linux" {
		for _, n := range []string{"process_cpu_seconds_total", "process_network_receive_bytes_total", "process_network_transmit_bytes_total"} {
			want[n] = dto.MetricType_COUNTER
		}
		for _, n := range []string{"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_start_time_seconds", "process_open_fds", "process_max_fds", "process_virtual_memory_max_bytes"} {
			want[n] = dto.MetricType_GAUGE
		}
	}
	for name, typ := range want {
		f, ok := plain[name]
		if typ == -1 {
			if ok {
				t.Errorf("%s is served with no samples", name)
			}
			continue
		}
		if !ok || f.GetType() != typ || len(f.GetMetric()) == 0 {
			t.Errorf("%s: %v, want a %v", name, f, typ)
		}
	}
	if got := plain["rotor_secret_rotation_incomplete"].GetMetric()[0]; got.GetGauge().GetValue() != 1 ||
		len(got.GetLabel()) != 2 || got.GetLabel()[0].GetValue() != "password" || got.GetLabel()[1].GetValue() != "svc/scraped" {
		t.Errorf("rotor_secret_rotation_incomplete: %v", got)
	}
	if up := plain["rotor_store_up"].GetMetric()[0].GetGauge().GetValue(); up != 1 {
		t.Errorf("rotor_store_up %v", up)
	}
	if runtime.GOOS == "linux" {
		rss := plain["process_resident_memory_bytes"].GetMetric()[0].GetGauge().GetValue()
		start := plain["process_start_time_seconds"].GetMetric()[0].GetGauge().GetValue()
		if rss < 1<<20 || time.Since(time.Unix(int64(start), 0)) > 24*time.Hour || time.Unix(int64(start), 0).After(time.Now().Add(time.Minute)) {
			t.Errorf("process_resident_memory_bytes %v, process_start_time_seconds %v", rss, start)
		}
	}

	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "deflate, gzip;q=0.5")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("Accept-Encoding gzip;q=0.5: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	zipped, _ := scrape(t, m.Handler(), "gzip")
	if len(zipped) != len(plain) {
		t.Errorf("gzipped: %d families, plain %d", len(zipped), len(plain))
	}
	for _, ae := range []string{"identity", "gzip;q=0", "br"} {
		req.Header.Set("Accept-Encoding", ae)
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %s: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
	}
}

// A store that cannot be listed is rotor_store_up 0, and the scrape still
// serves the rest.
func TestScrapeStoreDown(t *testing.T) {
	m := metrics.New(failingStore{}, nil)
	fams, _ := scrape(t, m.Handler(), "")
	if up := fams["rotor_store_up"].GetMetric()[0].GetGauge().GetValue(); up != 0 {
		t.Errorf("rotor_store_up %v, want 0", up)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no go_goroutines")
	}
}

type failingStore struct{ store.Store }

func (failingStore) ListSecrets(context.Context, store.ListSecretsInput) (*store.ListSecretsOutput, error) {
	return nil, errors.New("store down")
}

// Lambda mode writes the same figures as CloudWatch embedded metric format.
func TestEMF(t *testing.T) {
	var buf bytes.Buffer
	sink := metrics.EMFSink(&buf)
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, e := range events {
		e.Time = at
		sink(context.Background(), e)
	}
	sc := bufio.NewScanner(&buf)
	var lines []map[string]any
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		lines = append(lines, l)
	}
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	step := lines[1]
	meta := step["_aws"].(map[string]any)
	if meta["Timestamp"].(float64) != float64(at.UnixMilli()) {
		t.Errorf("Timestamp %v", meta["Timestamp"])
	}
	cwm := meta["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cwm["Namespace"] != "rotor" {
		t.Errorf("namespace %v", cwm["Namespace"])
	}
	dims := cwm["Dimensions"].([]any)[0].([]any)
	for _, d := range dims {
		if _, ok := step[d.(string)]; !ok {
			t.Errorf("dimension %s has no value in the line", d)
		}
	}
	met := cwm["Metrics"].([]any)[0].(map[string]any)
	if met["Name"] != "StepDuration" || met["Unit"] != "Milliseconds" || step["StepDuration"].(float64) != 120 || step["Step"] != "createSecret" {
		t.Errorf("step line: %v", step)
	}
	if l := lines[3]; l["Rotations"].(float64) != 1 || l["Outcome"] != "failed" || l["Kind"] != "jfrog" {
		t.Errorf("failure line: %v", l)
	}
	if strings.Contains(buf.String(), "refused") {
		t.Error("an error message reached a metric line")
	}
}
