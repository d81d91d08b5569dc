package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// recorder is a Notifier that records what it was given.
type recorder struct {
	mu   sync.Mutex
	evs  []Event
	err  error
	hang bool // ignore the context and never return until released
	rel  chan struct{}
}

func (r *recorder) Notify(ctx context.Context, ev Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	if r.hang {
		<-r.rel
	}
	return r.err
}

func (r *recorder) got() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

func TestRouting(t *testing.T) {
	user, admin, all := &recorder{}, &recorder{}, &recorder{}
	d := NewDispatcher(nil,
		Route{Name: "user", On: OutcomesOf(Succeeded, Partial), Notifier: user},
		Route{Name: "admin", On: OutcomesOf(Failed, Partial), Notifier: admin},
		Route{Name: "all", Notifier: all},
	)
	for _, o := range []Outcome{Succeeded, Failed, Partial} {
		d.Send(context.Background(), Event{Outcome: o, SecretName: "s"})
	}
	outcomes := func(r *recorder) string {
		var s []string
		for _, e := range r.got() {
			s = append(s, string(e.Outcome))
		}
		return strings.Join(s, ",")
	}
	if got := outcomes(user); got != "succeeded,partial" {
		t.Errorf("user got %s", got)
	}
	if got := outcomes(admin); got != "failed,partial" {
		t.Errorf("admin got %s", got)
	}
	if got := outcomes(all); got != "succeeded,failed,partial" {
		t.Errorf("all got %s", got)
	}
	st := d.Stats().Snapshot()
	if st["user"] != (Counts{Sent: 2, Skipped: 1}) || st["all"] != (Counts{Sent: 3}) {
		t.Errorf("stats %+v", st)
	}
}

func TestFailuresAreLoggedAndCountedNeverReturned(t *testing.T) {
	log, buf := testLogger()
	hung := &recorder{hang: true, rel: make(chan struct{})}
	defer close(hung.rel)
	ok := &recorder{}
	d := NewDispatcher(log,
		Route{Name: "broken", Target: "example.com", Notifier: &recorder{err: errors.New("boom: token s3cret-token-value")}},
		Route{Name: "panicky", Notifier: NotifierFunc(func(context.Context, Event) error { panic("s3cret-token-value") })},
		Route{Name: "hung", Timeout: 20 * time.Millisecond, Notifier: hung},
		Route{Name: "ok", Notifier: ok},
	)
	// Send has no error to return; it must come back despite the hung
	// notifier, and still deliver to the healthy one.
	d.Send(context.Background(), Event{Outcome: Failed, SecretName: "prod/db", Redact: []secret.Value{secret.New("s3cret-token-value")}})
	if len(ok.got()) != 1 {
		t.Fatal("the healthy channel got nothing")
	}
	st := d.Stats().Snapshot()
	for _, name := range []string{"broken", "panicky", "hung"} {
		if st[name].Failed != 1 || st[name].Sent != 0 {
			t.Errorf("%s counts %+v, want one failure", name, st[name])
		}
	}
	if st["ok"].Sent != 1 {
		t.Errorf("ok counts %+v", st["ok"])
	}
	logs := buf.String()
	if strings.Contains(logs, "s3cret-token-value") {
		t.Errorf("a value reached the log:\n%s", logs)
	}
	for _, want := range []string{`"channel":"broken"`, `"target":"example.com"`, `"channel":"hung"`, "no answer within 20ms", "panicked (string)"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestCancelledContextStillNotifies(t *testing.T) {
	r := &recorder{}
	d := NewDispatcher(nil, Route{Name: "r", Notifier: NotifierFunc(func(ctx context.Context, ev Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return r.Notify(ctx, ev)
	})})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the rotation failed because its context ended
	d.Send(ctx, Event{Outcome: Failed})
	if len(r.got()) != 1 || d.Stats().Snapshot()["r"].Sent != 1 {
		t.Fatal("a cancelled rotation context stopped the failure notice")
	}
}

func TestNotifiersSeeScrubbedEvents(t *testing.T) {
	r := &recorder{}
	d := NewDispatcher(nil, Route{Name: "r", Notifier: r})
	v := secret.New("correct-horse-battery")
	d.Send(context.Background(), Event{Outcome: Failed, Message: "bad value correct-horse-battery", Err: errors.New("x correct-horse-battery"), Redact: []secret.Value{v}})
	ev := r.got()[0]
	if strings.Contains(ev.Message+ev.Err.Error(), "correct-horse") {
		t.Fatalf("notifier saw the value: %+v", ev)
	}
	if ev.Time.IsZero() {
		t.Error("a zero event time was not filled in")
	}
}

func TestConcurrentSends(t *testing.T) {
	r := &recorder{}
	d := NewDispatcher(nil, Route{Name: "r", Notifier: r}, Route{Name: "e", Notifier: &recorder{err: errors.New("x")}})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { d.Send(context.Background(), Event{Outcome: Partial}) })
	}
	wg.Wait()
	if st := d.Stats().Snapshot(); st["r"].Sent != 20 || st["e"].Failed != 20 || len(r.got()) != 20 {
		t.Fatalf("stats %+v, %d delivered", st, len(r.got()))
	}
}

func TestNilAndEmptyDispatcher(t *testing.T) {
	var d *Dispatcher
	d.Send(context.Background(), Event{Outcome: Failed})
	if err := d.Notify(context.Background(), Event{Outcome: Failed}); err != nil {
		t.Fatal(err)
	}
	log, buf := testLogger()
	NewDispatcher(log, Route{Name: "r", Notifier: &recorder{}}).Send(context.Background(), Event{Outcome: "weird"})
	if !strings.Contains(buf.String(), "unknown outcome") {
		t.Errorf("an unknown outcome was not logged: %s", buf.String())
	}
}

func TestNewDispatcherPanicsOnBadRoutes(t *testing.T) {
	for name, routes := range map[string][]Route{
		"no name":     {{Notifier: &recorder{}}},
		"no notifier": {{Name: "x"}},
		"duplicate":   {{Name: "x", Notifier: &recorder{}}, {Name: "x", Notifier: &recorder{}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			NewDispatcher(nil, routes...)
		}()
	}
}

func TestStatsIsExpvar(t *testing.T) {
	s := NewStats()
	s.add("slack", func(c *Counts) { c.Failed++ })
	if got := s.String(); got != `{"slack":{"sent":0,"failed":1,"skipped":0}}` {
		t.Errorf("String = %s", got)
	}
}
