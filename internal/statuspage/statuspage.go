// Package statuspage serves rotor server's read-only status page: every
// secret with its kind, staging labels, last and next rotation, the outcome
// of its last rotation attempt and the revocations still due, and a
// timeline of recent rotations and failures. It is plain server-rendered
// HTML (html/template, no JavaScript, no external resources), so it works
// in any browser, a text browser, or curl.
//
// The page shows names, version ids, kinds, times and error messages, never
// a value or a tag's value.
package statuspage

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

//go:embed page.html
var files embed.FS

// page is parsed when first served, not at process start.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page.html").Funcs(template.FuncMap{
		"when":  when,
		"short": short,
	}).ParseFS(files, "page.html"))
})

// PageSize is how many secrets one page lists.
const PageSize = 100

// TimelineSize is how many events the timeline shows.
const TimelineSize = 100

// Config configures the page.
type Config struct {
	Store store.Store
	// Events are the process's recent audit events (the timeline and each
	// secret's last outcome); none when nil.
	Events *audit.Ring
	// Leader, when set, says whether this replica runs the scheduler.
	Leader func() (leader bool, holder string)
	Now    func() time.Time
	Log    *slog.Logger
}

// Handler returns the page's handler: GET / (?next=TOKEN for the next page
// of secrets, ?secret=NAME for one secret's timeline).
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &handler{cfg: cfg}
}

type handler struct{ cfg Config }

// Row is one secret on the page.
type Row struct {
	Name, Kind      string
	Labels          []Label
	Rotation        bool
	Schedule        string
	Last, Next      time.Time
	Overdue         bool
	Outcome, Detail string
	OutcomeAt       time.Time
	RevocationsDue  int
	Incomplete      bool
	Deleted         bool
}

// Label is a staging label and the version holding it.
type Label struct{ Stage, Version string }

// Entry is one timeline event.
type Entry struct {
	Time                  time.Time
	Event, Secret, Kind   string
	Version, Step, Detail string
	Failure               bool
}

type view struct {
	Now            time.Time
	Rows           []Row
	Next           string
	Secret         string
	Timeline       []Entry
	StoreError     string
	Leader         *leaderView
	Total, Overdue int
	Failing        int
}

type leaderView struct {
	Leader bool
	Holder string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the status page is read-only", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	v := view{Now: h.cfg.Now().UTC(), Secret: r.URL.Query().Get("secret")}
	if h.cfg.Leader != nil {
		l, holder := h.cfg.Leader()
		v.Leader = &leaderView{Leader: l, Holder: holder}
	}
	last := h.lastOutcomes()
	in := store.ListSecretsInput{MaxResults: PageSize, NextToken: r.URL.Query().Get("next"), IncludePlannedDeletion: true}
	if v.Secret != "" {
		in.Filters = []store.Filter{{Key: "name", Values: []string{v.Secret}}}
		in.NextToken = ""
	}
	out, err := h.cfg.Store.ListSecrets(ctx, in)
	if err != nil {
		h.cfg.Log.Warn("status page: cannot list the store", "error", err)
		v.StoreError = "the store cannot be listed: " + err.Error()
	} else {
		v.Next = out.NextToken
		for i := range out.Secrets {
			d := &out.Secrets[i]
			if v.Secret != "" && d.Name != v.Secret {
				continue // the name filter matches prefixes
			}
			row := rowOf(d, v.Now)
			if o, ok := last[d.ARN]; ok {
				row.Outcome, row.Detail, row.OutcomeAt = o.Outcome, o.Detail, o.Time
			} else if row.Incomplete {
				row.Outcome = "incomplete"
			}
			if row.Overdue {
				v.Overdue++
			}
			if row.Outcome == "failed" {
				v.Failing++
			}
			v.Rows = append(v.Rows, row)
		}
		v.Total = len(v.Rows)
	}
	v.Timeline = h.timeline(v.Secret)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := page().Execute(w, v); err != nil {
		h.cfg.Log.Warn("status page: render", "error", err)
	}
}

func rowOf(d *store.Description, now time.Time) Row {
	row := Row{Name: d.Name, Kind: rotator.FromTags(d.Tags)[rotator.OptKind], Rotation: d.RotationEnabled,
		Last: d.LastRotatedDate, Next: d.NextRotationDate, RevocationsDue: len(d.RevokeMarked()), Deleted: !d.DeletedDate.IsZero()}
	switch r := d.RotationRules; {
	case r.ScheduleExpression != "":
		row.Schedule = r.ScheduleExpression
	case r.AutomaticallyAfterDays > 0:
		row.Schedule = "every " + itoa(int(r.AutomaticallyAfterDays)) + " days"
	case d.RotationEnabled:
		row.Schedule = "on every pass"
	}
	for _, stage := range []string{store.Current, store.Pending, store.Previous} {
		if id := d.VersionWithStage(stage); id != "" {
			row.Labels = append(row.Labels, Label{Stage: stage, Version: id})
		}
	}
	pend := d.VersionWithStage(store.Pending)
	row.Incomplete = pend != "" && pend != d.VersionWithStage(store.Current)
	row.Overdue = d.RotationEnabled && !d.NextRotationDate.IsZero() && now.Sub(d.NextRotationDate) > time.Hour
	return row
}

type outcome struct {
	Outcome, Detail string
	Time            time.Time
}

// lastOutcomes is the last rotation outcome of each secret in the ring.
func (h *handler) lastOutcomes() map[string]outcome {
	m := map[string]outcome{}
	if h.cfg.Events == nil {
		return m
	}
	for _, e := range h.cfg.Events.Events(nil) { // newest first
		if _, seen := m[e.ARN]; seen {
			continue
		}
		switch e.Type {
		case audit.RotationSucceeded:
			m[e.ARN] = outcome{"succeeded", "version " + short(e.Version) + " is AWSCURRENT", e.Time}
		case audit.RotationFailed:
			m[e.ARN] = outcome{"failed", failDetail(e), e.Time}
		case audit.RotationAbandoned:
			m[e.ARN] = outcome{"abandoned", e.Reason, e.Time}
		case audit.RotationStarted:
			m[e.ARN] = outcome{"running", "version " + short(e.Version), e.Time}
		}
	}
	return m
}

func failDetail(e audit.Event) string {
	if e.Step != "" {
		return e.Step + ": " + e.Error
	}
	return e.Error
}

// timeline is the recent rotation-level events, newest first.
func (h *handler) timeline(secret string) []Entry {
	if h.cfg.Events == nil {
		return nil
	}
	evs := h.cfg.Events.Events(func(e audit.Event) bool {
		if secret != "" && e.Secret != secret {
			return false
		}
		return e.Type != audit.StepSucceeded
	})
	if len(evs) > TimelineSize {
		evs = evs[:TimelineSize]
	}
	out := make([]Entry, 0, len(evs))
	for _, e := range evs {
		en := Entry{Time: e.Time, Event: string(e.Type), Secret: e.Secret, Kind: e.Kind, Version: e.Version, Step: e.Step}
		switch e.Type {
		case audit.RotationFailed, audit.StepFailed, audit.RevocationFailed:
			en.Failure, en.Detail = true, e.Error
		case audit.RotationAbandoned:
			en.Detail = e.Reason
		case audit.RotationSucceeded:
			if e.Previous != "" {
				en.Detail = "previous " + short(e.Previous)
			}
		}
		out = append(out, en)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

func when(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	rel := "in " + human(d)
	if d < 0 {
		rel = human(-d) + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04 MST") + " (" + rel + ")"
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}

func itoa(n int) string { return strconv.Itoa(n) }

// short abbreviates a version id to its first group.
func short(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i] + "…"
	}
	return id
}
