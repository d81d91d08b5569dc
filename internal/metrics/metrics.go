// Package metrics exposes rotor's Prometheus metrics: counters and step
// latencies fed by the engine's audit events, and, at every scrape, the
// rotation state of each secret read from the store. Labels are kinds,
// outcomes, steps and secret names, never a value or a tag's value.
package metrics

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// Metrics is one process's metrics.
type Metrics struct {
	secrets     *secretsCollector
	rotations   *counterVec
	steps       *histogramVec
	revocations *counterVec
}

// New makes rotor's metrics, with the Go runtime's and the process's, and,
// when st is set, the per-secret state read from st at each scrape.
func New(st store.Store, log *slog.Logger) *Metrics {
	m := &Metrics{
		rotations: newCounterVec("rotor_rotations_total",
			"Whole rotations by kind and outcome (started, succeeded, failed, abandoned).", "kind", "outcome"),
		steps: newHistogramVec("rotor_step_duration_seconds", "Duration of rotation steps by kind, step and outcome.",
			[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}, "kind", "step", "outcome"),
		revocations: newCounterVec("rotor_revocations_total",
			"Revocations of old credentials by kind and outcome.", "kind", "outcome"),
	}
	if st != nil {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		m.secrets = &secretsCollector{st: st, log: log, now: time.Now}
	}
	return m
}

// ExpiryFunc returns when the credential a secret's AWSCURRENT holds
// expires; ok is false when it has no known expiry.
type ExpiryFunc func(ctx context.Context, d *store.Description) (at time.Time, ok bool, err error)

// SetExpiry has each scrape export rotor_secret_credential_expiry_seconds
// for the secrets whose credentials expire. Values are read once per
// version: the expiry is cached until AWSCURRENT moves. Call it before
// serving.
func (m *Metrics) SetExpiry(f ExpiryFunc) {
	if m.secrets != nil {
		m.secrets.expiry = f
	}
}

// families are the families of one scrape.
func (m *Metrics) families(ctx context.Context) []*family {
	ext := externalMetrics()
	fams := []*family{m.rotations.family(), m.steps.family(), m.revocations.family(),
		ext.calls.family(), ext.duration.family()}
	if m.secrets != nil {
		fams = append(fams, m.secrets.collect(ctx)...)
	}
	fams = append(fams, goFamilies()...)
	return append(fams, processFamilies()...)
}

// Handler serves the metrics in the Prometheus text format, gzipped for a
// scraper that accepts it (Prometheus does).
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		fams := m.families(ctx)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			_ = writeText(w, fams)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		if writeText(gz, fams) == nil {
			_ = gz.Close()
		}
		gzipWriters.Put(gz)
	})
}

// gzipWriters are reused: each holds about a megabyte of compression state.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// acceptsGzip tells whether an Accept-Encoding header accepts gzip: it
// names it without "q=0".
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				q, err := strconv.ParseFloat(v, 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// Sink counts the engine's audit events.
func (m *Metrics) Sink() audit.Sink {
	return func(_ context.Context, e audit.Event) {
		kind := e.Kind
		if kind == "" {
			kind = "unknown"
		}
		switch e.Type {
		case audit.RotationStarted:
			m.rotations.inc(kind, "started")
		case audit.RotationSucceeded:
			m.rotations.inc(kind, "succeeded")
		case audit.RotationFailed:
			m.rotations.inc(kind, "failed")
		case audit.RotationAbandoned:
			m.rotations.inc(kind, "abandoned")
		case audit.StepSucceeded:
			m.steps.observe(float64(e.DurationMS)/1000, kind, e.Step, "succeeded")
		case audit.StepFailed:
			m.steps.observe(float64(e.DurationMS)/1000, kind, e.Step, "failed")
		case audit.RevocationSucceeded:
			m.revocations.inc(kind, "succeeded")
		case audit.RevocationFailed:
			m.revocations.inc(kind, "failed")
		}
	}
}

// The per-secret gauges' names and help texts; their labels are
// secretLabels.
const (
	nameLast    = "rotor_secret_last_rotation_timestamp_seconds"
	helpLast    = "When the secret was last rotated (Unix time; absent before its first rotation)."
	nameNext    = "rotor_secret_next_rotation_timestamp_seconds"
	helpNext    = "When the secret's next rotation is due (Unix time; absent without rotation rules)."
	nameDue     = "rotor_secret_revocations_due"
	helpDue     = "Old credentials of the secret whose revocation is still due."
	namePending = "rotor_secret_rotation_incomplete"
	helpPending = "1 while the secret has an incomplete rotation (AWSPENDING on a version that is not AWSCURRENT)."
	nameExpiry  = "rotor_secret_credential_expiry_seconds"
	helpExpiry  = "Seconds until the credential AWSCURRENT holds expires (negative once expired), for kinds whose credentials carry an expiry (jfrog, ecr)."
	nameUp      = "rotor_store_up"
	helpUp      = "1 when the last scrape could list the store."
)

var secretLabels = []string{"secret", "kind"}

// secretsCollector reads every secret with rotation enabled from the store
// at each scrape, a page at a time.
type secretsCollector struct {
	st     store.Store
	log    *slog.Logger
	now    func() time.Time
	expiry ExpiryFunc

	mu    sync.Mutex
	cache map[string]expiryEntry // by ARN
}

// expiryEntry is a secret's cached credential expiry.
type expiryEntry struct {
	version string
	at      time.Time
	ok      bool
}

// credentialExpiry is the cached expiry of d's AWSCURRENT credential.
func (c *secretsCollector) credentialExpiry(ctx context.Context, d *store.Description, seen map[string]bool) (time.Time, bool) {
	cur := d.VersionWithStage(store.Current)
	if c.expiry == nil || cur == "" {
		return time.Time{}, false
	}
	seen[d.ARN] = true
	c.mu.Lock()
	e, hit := c.cache[d.ARN]
	c.mu.Unlock()
	if hit && e.version == cur {
		return e.at, e.ok
	}
	at, ok, err := c.expiry(ctx, d)
	if err != nil {
		c.log.Warn("metrics: cannot read the credential's expiry", "secret", d.Name, "error", err)
		return time.Time{}, false
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]expiryEntry{}
	}
	c.cache[d.ARN] = expiryEntry{version: cur, at: at, ok: ok}
	c.mu.Unlock()
	return at, ok
}

// forget drops the cached expiries of secrets a scrape did not see.
func (c *secretsCollector) forget(seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for arn := range c.cache {
		if !seen[arn] {
			delete(c.cache, arn)
		}
	}
}

// collect reads the gauges of every secret with rotation enabled. When
// the store cannot be listed, rotor_store_up is 0 and the gauges are those
// of the pages read before.
func (c *secretsCollector) collect(ctx context.Context) []*family {
	last := &family{name: nameLast, help: helpLast, typ: typeGauge}
	next := &family{name: nameNext, help: helpNext, typ: typeGauge}
	due := &family{name: nameDue, help: helpDue, typ: typeGauge}
	pending := &family{name: namePending, help: helpPending, typ: typeGauge}
	expiry := &family{name: nameExpiry, help: helpExpiry, typ: typeGauge}
	fams := []*family{last, next, due, pending, expiry}
	in := store.ListSecretsInput{MaxResults: 100}
	seen := map[string]bool{}
	for {
		page, err := c.st.ListSecrets(ctx, in)
		if err != nil {
			c.log.Warn("metrics: cannot list the store", "error", err)
			return append(fams, gauge(nameUp, helpUp, 0))
		}
		for i := range page.Secrets {
			d := &page.Secrets[i]
			if !d.RotationEnabled {
				continue
			}
			kind := rotator.FromTags(d.Tags)[rotator.OptKind]
			if !d.LastRotatedDate.IsZero() {
				last.add(unix(d.LastRotatedDate), secretLabels, d.Name, kind)
			}
			if !d.NextRotationDate.IsZero() {
				next.add(unix(d.NextRotationDate), secretLabels, d.Name, kind)
			}
			if d.VersionIDsToStages != nil {
				due.add(float64(len(d.RevokeMarked())), secretLabels, d.Name, kind)
				pend := d.VersionWithStage(store.Pending)
				incomplete := 0.0
				if pend != "" && pend != d.VersionWithStage(store.Current) {
					incomplete = 1
				}
				pending.add(incomplete, secretLabels, d.Name, kind)
				if at, ok := c.credentialExpiry(ctx, d, seen); ok {
					expiry.add(at.Sub(c.now()).Seconds(), secretLabels, d.Name, kind)
				}
			}
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	c.forget(seen)
	return append(fams, gauge(nameUp, helpUp, 1))
}

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
