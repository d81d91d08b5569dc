// Package audit defines rotor's audit events: one JSON object per thing that
// happened to a credential (a rotation started, succeeded, failed or was
// abandoned; a step ran; an old credential was revoked or could not be),
// with a stable schema so the events can be shipped to a SIEM.
//
// The schema is versioned by the "schema" field (SchemaVersion). Fields are
// only ever added; a field's meaning never changes within a version. An
// event never carries a secret value: only names, ARNs, version ids, kinds,
// steps, durations and error messages, which rotor keeps free of values.
package audit

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// SchemaVersion is the value of every event's "schema" field.
const SchemaVersion = "rotor.audit/v1"

// Type is what happened.
type Type string

// The event types.
const (
	RotationStarted     Type = "RotationStarted"
	RotationSucceeded   Type = "RotationSucceeded"
	RotationFailed      Type = "RotationFailed"
	RotationAbandoned   Type = "RotationAbandoned"
	StepSucceeded       Type = "StepSucceeded"
	StepFailed          Type = "StepFailed"
	RevocationSucceeded Type = "RevocationSucceeded"
	RevocationFailed    Type = "RevocationFailed"
)

// Types lists every type, in the order the README documents them.
var Types = []Type{RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned,
	StepSucceeded, StepFailed, RevocationSucceeded, RevocationFailed}

// Event is one audit event.
type Event struct {
	Schema string    `json:"schema"`
	Time   time.Time `json:"time"`
	Type   Type      `json:"event"`
	// Secret is the secret's name, ARN its ARN (the name when the ARN is
	// not known, e.g. a step event refused before the secret was read).
	Secret string `json:"secret"`
	ARN    string `json:"arn"`
	Kind   string `json:"kind,omitempty"`
	// Version is the rotation's version id (the AWSPENDING token), or for
	// a revocation the version whose credential it concerns.
	Version string `json:"version,omitempty"`
	// Previous is the version that became AWSPREVIOUS (RotationSucceeded).
	Previous string `json:"previous_version,omitempty"`
	// Step is createSecret, setSecret, testSecret or finishSecret.
	Step string `json:"step,omitempty"`
	// Resumed: the rotation finishes one an earlier attempt left.
	Resumed bool `json:"resumed,omitempty"`
	// DurationMS is how long the step or the whole rotation took.
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Reason says why a rotation was abandoned.
	Reason string `json:"reason,omitempty"`
	// Error is the failure, for the Failed types.
	Error string `json:"error,omitempty"`
}

// Sink receives events. It must not block for long or fail the rotation.
type Sink func(ctx context.Context, e Event)

// Tee returns a Sink that gives each event to every non-nil sink.
func Tee(sinks ...Sink) Sink {
	var live []Sink
	for _, s := range sinks {
		if s != nil {
			live = append(live, s)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return func(ctx context.Context, e Event) {
		for _, s := range live {
			s(ctx, e)
		}
	}
}

// Writer writes events as JSON lines (one object per line).
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder
}

// NewWriter writes events to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, enc: json.NewEncoder(w)}
}

// Sink returns the Sink that writes to w. Write errors are dropped: an
// audit trail that cannot be written must not stop a rotation (the logs
// carry the same facts).
func (w *Writer) Sink() Sink {
	return func(_ context.Context, e Event) {
		w.mu.Lock()
		defer w.mu.Unlock()
		_ = w.enc.Encode(e)
		if s, ok := w.w.(interface{ Sync() error }); ok {
			_ = s.Sync()
		}
	}
}

// Ring keeps the last events in memory, for the status page's timeline.
type Ring struct {
	mu   sync.Mutex
	buf  []Event
	next int
	full bool
}

// NewRing keeps up to n events.
func NewRing(n int) *Ring {
	if n < 1 {
		n = 1
	}
	return &Ring{buf: make([]Event, n)}
}

// Sink returns the Sink that records into r.
func (r *Ring) Sink() Sink {
	return func(_ context.Context, e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.buf[r.next] = e
		r.next = (r.next + 1) % len(r.buf)
		if r.next == 0 {
			r.full = true
		}
	}
}

// Events returns the recorded events, newest first, that match keep (all
// when keep is nil).
func (r *Ring) Events(keep func(Event) bool) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		e := r.buf[(r.next-i+len(r.buf))%len(r.buf)]
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out
}
