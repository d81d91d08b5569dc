package metrics

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
)

// EMFNamespace is the CloudWatch namespace of the Lambda function's metrics.
const EMFNamespace = "rotor"

// EMFSink writes the figures of the audit events as CloudWatch embedded
// metric format lines to w (the Lambda function's stdout, which CloudWatch
// Logs turns into metrics): Rotations and Revocations counts by Kind and
// Outcome, and StepDuration in milliseconds by Kind, Step and Outcome —
// the same figures as the Prometheus metrics of rotor server.
func EMFSink(w io.Writer) audit.Sink {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(_ context.Context, e audit.Event) {
		kind := e.Kind
		if kind == "" {
			kind = "unknown"
		}
		var name, unit, outcome string
		dims := []string{"Kind", "Outcome"}
		value := 1.0
		switch e.Type {
		case audit.RotationStarted:
			name, unit, outcome = "Rotations", "Count", "started"
		case audit.RotationSucceeded:
			name, unit, outcome = "Rotations", "Count", "succeeded"
		case audit.RotationFailed:
			name, unit, outcome = "Rotations", "Count", "failed"
		case audit.RotationAbandoned:
			name, unit, outcome = "Rotations", "Count", "abandoned"
		case audit.RevocationSucceeded:
			name, unit, outcome = "Revocations", "Count", "succeeded"
		case audit.RevocationFailed:
			name, unit, outcome = "Revocations", "Count", "failed"
		case audit.StepSucceeded, audit.StepFailed:
			name, unit, outcome = "StepDuration", "Milliseconds", "succeeded"
			if e.Type == audit.StepFailed {
				outcome = "failed"
			}
			dims = []string{"Kind", "Step", "Outcome"}
			value = float64(e.DurationMS)
		default:
			return
		}
		line := map[string]any{
			"_aws": map[string]any{
				"Timestamp": e.Time.UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  EMFNamespace,
					"Dimensions": [][]string{dims},
					"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
				}},
			},
			"Kind":    kind,
			"Outcome": outcome,
			name:      value,
		}
		if len(dims) == 3 {
			line["Step"] = e.Step
		}
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(line)
	}
}

// EMFCalls returns an OnCall function that writes each external call as an
// embedded-metric-format line to w: ExternalCalls (Count) by Service and
// Result, and ExternalCallDuration (Milliseconds) by Service, the figures of
// rotor_external_calls_total and rotor_external_call_duration_seconds.
func EMFCalls(w io.Writer, now func() time.Time) func(service, result string, d time.Duration) {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(service, result string, d time.Duration) {
		line := map[string]any{
			"_aws": map[string]any{
				"Timestamp": now().UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  EMFNamespace,
					"Dimensions": [][]string{{"Service", "Result"}, {"Service"}},
					"Metrics": []any{map[string]string{"Name": "ExternalCalls", "Unit": "Count"},
						map[string]string{"Name": "ExternalCallDuration", "Unit": "Milliseconds"}},
				}},
			},
			"Service":              service,
			"Result":               result,
			"ExternalCalls":        1,
			"ExternalCallDuration": float64(d.Microseconds()) / 1000,
		}
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(line)
	}
}
