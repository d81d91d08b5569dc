package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/metrics"
)

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
	want := `
# HELP rotor_rotations_total Whole rotations by kind and outcome (started, succeeded, failed, abandoned).
# TYPE rotor_rotations_total counter
rotor_rotations_total{kind="jfrog",outcome="failed"} 1
rotor_rotations_total{kind="jfrog",outcome="started"} 1
rotor_rotations_total{kind="unknown",outcome="succeeded"} 1
# HELP rotor_revocations_total Revocations of old credentials by kind and outcome.
# TYPE rotor_revocations_total counter
rotor_revocations_total{kind="jfrog",outcome="succeeded"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "rotor_rotations_total", "rotor_revocations_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "rotor_step_duration_seconds"); n != 2 {
		t.Errorf("%d step histograms, want 2 (succeeded createSecret, failed testSecret)", n)
	}
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
