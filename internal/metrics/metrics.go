// Package metrics exposes rotor's Prometheus metrics: counters and step
// latencies fed by the engine's audit events, and, at every scrape, the
// rotation state of each secret read from the store. Labels are kinds,
// outcomes, steps and secret names, never a value or a tag's value.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// Metrics is one process's metrics.
type Metrics struct {
	reg         *prometheus.Registry
	secrets     *secretsCollector
	rotations   *prometheus.CounterVec
	steps       *prometheus.HistogramVec
	revocations *prometheus.CounterVec
}

// New registers rotor's metrics, the Go runtime's and the process's, and,
// when st is set, the per-secret state read from st at each scrape.
func New(st store.Store, log *slog.Logger) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rotor_rotations_total",
		Help: "Whole rotations by kind and outcome (started, succeeded, failed, abandoned).",
	}, []string{"kind", "outcome"})
	m.steps = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rotor_step_duration_seconds",
		Help:    "Duration of rotation steps by kind, step and outcome.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"kind", "step", "outcome"})
	m.revocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rotor_revocations_total",
		Help: "Revocations of old credentials by kind and outcome.",
	}, []string{"kind", "outcome"})
	ext := externalMetrics()
	m.reg.MustRegister(m.rotations, m.steps, m.revocations, ext.calls, ext.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		m.secrets = &secretsCollector{st: st, log: log, now: time.Now}
		m.reg.MustRegister(m.secrets)
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

// Registry is the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
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
			m.rotations.WithLabelValues(kind, "started").Inc()
		case audit.RotationSucceeded:
			m.rotations.WithLabelValues(kind, "succeeded").Inc()
		case audit.RotationFailed:
			m.rotations.WithLabelValues(kind, "failed").Inc()
		case audit.RotationAbandoned:
			m.rotations.WithLabelValues(kind, "abandoned").Inc()
		case audit.StepSucceeded:
			m.steps.WithLabelValues(kind, e.Step, "succeeded").Observe(float64(e.DurationMS) / 1000)
		case audit.StepFailed:
			m.steps.WithLabelValues(kind, e.Step, "failed").Observe(float64(e.DurationMS) / 1000)
		case audit.RevocationSucceeded:
			m.revocations.WithLabelValues(kind, "succeeded").Inc()
		case audit.RevocationFailed:
			m.revocations.WithLabelValues(kind, "failed").Inc()
		}
	}
}

var (
	descLast = prometheus.NewDesc("rotor_secret_last_rotation_timestamp_seconds",
		"When the secret was last rotated (Unix time; absent before its first rotation).", []string{"secret", "kind"}, nil)
	descNext = prometheus.NewDesc("rotor_secret_next_rotation_timestamp_seconds",
		"When the secret's next rotation is due (Unix time; absent without rotation rules).", []string{"secret", "kind"}, nil)
	descDue = prometheus.NewDesc("rotor_secret_revocations_due",
		"Old credentials of the secret whose revocation is still due.", []string{"secret", "kind"}, nil)
	descPending = prometheus.NewDesc("rotor_secret_rotation_incomplete",
		"1 while the secret has an incomplete rotation (AWSPENDING on a version that is not AWSCURRENT).", []string{"secret", "kind"}, nil)
	descExpiry = prometheus.NewDesc("rotor_secret_credential_expiry_seconds",
		"Seconds until the credential AWSCURRENT holds expires (negative once expired), for kinds whose credentials carry an expiry (jfrog, ecr).", []string{"secret", "kind"}, nil)
	descUp = prometheus.NewDesc("rotor_store_up", "1 when the last scrape could list the store.", nil, nil)
)

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

func (c *secretsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLast
	ch <- descNext
	ch <- descDue
	ch <- descPending
	ch <- descExpiry
	ch <- descUp
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

func (c *secretsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := store.ListSecretsInput{MaxResults: 100}
	seen := map[string]bool{}
	for {
		page, err := c.st.ListSecrets(ctx, in)
		if err != nil {
			c.log.Warn("metrics: cannot list the store", "error", err)
			ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
			return
		}
		for i := range page.Secrets {
			d := &page.Secrets[i]
			if !d.RotationEnabled {
				continue
			}
			kind := rotator.FromTags(d.Tags)[rotator.OptKind]
			if !d.LastRotatedDate.IsZero() {
				ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, unix(d.LastRotatedDate), d.Name, kind)
			}
			if !d.NextRotationDate.IsZero() {
				ch <- prometheus.MustNewConstMetric(descNext, prometheus.GaugeValue, unix(d.NextRotationDate), d.Name, kind)
			}
			if d.VersionIDsToStages != nil {
				ch <- prometheus.MustNewConstMetric(descDue, prometheus.GaugeValue, float64(len(d.RevokeMarked())), d.Name, kind)
				pend := d.VersionWithStage(store.Pending)
				incomplete := 0.0
				if pend != "" && pend != d.VersionWithStage(store.Current) {
					incomplete = 1
				}
				ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, incomplete, d.Name, kind)
				if at, ok := c.credentialExpiry(ctx, d, seen); ok {
					ch <- prometheus.MustNewConstMetric(descExpiry, prometheus.GaugeValue, at.Sub(c.now()).Seconds(), d.Name, kind)
				}
			}
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	c.forget(seen)
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
}

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
