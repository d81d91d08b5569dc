package metrics

import (
	"bufio"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// rotor writes its metrics in the Prometheus text exposition format
// (version 0.0.4) itself: a handful of counters and histograms, and gauges
// read at each scrape, do not need a metrics library, and the one it used
// cost a fifth of the process's start-up (package initialisation). The
// tests parse every scrape with Prometheus's own text parser.

// Metric types, as the TYPE line names them.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
	typeSummary   = "summary"
)

// family is one metric family of a scrape: its samples, in the order
// they are written.
type family struct {
	name, help, typ string
	samples         []sample
}

// sample is one line: the family's name with suffix ("_bucket", "_sum",
// "_count" or ""), its labels, and its value.
type sample struct {
	suffix string
	labels []label
	value  float64
}

type label struct{ name, value string }

// add appends a sample whose labels are names[i]=values[i].
func (f *family) add(value float64, names []string, values ...string) {
	f.samples = append(f.samples, sample{labels: pairs(names, values), value: value})
}

// pairs zips label names and values, sorted by name as Prometheus's
// client libraries write them.
func pairs(names, values []string) []label {
	ls := make([]label, len(names))
	for i, n := range names {
		ls[i] = label{n, values[i]}
	}
	slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
	return ls
}

// writeText writes fams in the text format, families in name order.
func writeText(w io.Writer, fams []*family) error {
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	bw := bufio.NewWriter(w)
	var b []byte
	for _, f := range fams {
		if len(f.samples) == 0 {
			continue
		}
		b = append(b[:0], "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = appendEscaped(b, f.help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, f.typ...)
		b = append(b, '\n')
		for _, s := range f.samples {
			b = append(b, f.name...)
			b = append(b, s.suffix...)
			if len(s.labels) > 0 {
				b = append(b, '{')
				for i, l := range s.labels {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, l.name...)
					b = append(b, `="`...)
					b = appendEscaped(b, l.value, true)
					b = append(b, '"')
				}
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, s.value)
			b = append(b, '\n')
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendEscaped escapes a HELP text (backslash, newline) or a label value
// (double quote too), as the text format requires.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// seriesKey is the map key of a series: its label values, joined by a
// byte no UTF-8 text holds.
func seriesKey(values []string) string { return strings.Join(values, "\xff") }

// vec is a family partitioned by labels: a series of T for each
// combination of label values seen.
type vec[T any] struct {
	name, help string
	labels     []string

	mu     sync.Mutex
	series map[string]*series[T]
}

type series[T any] struct {
	values []string
	v      T
}

func newVec[T any](name, help string, labels []string) vec[T] {
	return vec[T]{name: name, help: help, labels: labels, series: map[string]*series[T]{}}
}

// update calls f, under the lock, on the series with the label values (in
// the order the labels were declared), made with init when it is new.
func (v *vec[T]) update(values []string, init func() T, f func(*T)) {
	if len(values) != len(v.labels) {
		panic("metrics: " + v.name + " takes " + strconv.Itoa(len(v.labels)) + " label values")
	}
	k := seriesKey(values)
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.series[k]
	if s == nil {
		s = &series[T]{values: slices.Clone(values), v: init()}
		v.series[k] = s
	}
	f(&s.v)
}

// each calls f, under the lock, on every series in the order of their
// label values.
func (v *vec[T]) each(f func(values []string, t *T)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(v.series)) {
		s := v.series[k]
		f(s.values, &s.v)
	}
}

// counterVec is a counter family partitioned by labels.
type counterVec struct{ vec[float64] }

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{newVec[float64](name, help, labels)}
}

// inc adds 1 to the series with the label values, in the order the
// labels were declared.
func (c *counterVec) inc(values ...string) {
	c.update(values, func() float64 { return 0 }, func(n *float64) { *n++ })
}

// value is the count of one series (0 when it has none yet).
func (c *counterVec) value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.series[seriesKey(values)]; s != nil {
		return s.v
	}
	return 0
}

func (c *counterVec) family() *family {
	f := &family{name: c.name, help: c.help, typ: typeCounter}
	c.each(func(values []string, n *float64) { f.add(*n, c.labels, values...) })
	return f
}

// histogramVec is a histogram family partitioned by labels.
type histogramVec struct {
	vec[histogram]
	buckets []float64 // upper bounds, ascending, without +Inf
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is above every bound
	sum    float64
	n      uint64
}

func newHistogramVec(name, help string, buckets []float64, labels ...string) *histogramVec {
	if !slices.IsSorted(buckets) {
		panic("metrics: " + name + "'s buckets are not in ascending order")
	}
	return &histogramVec{vec: newVec[histogram](name, help, labels), buckets: buckets}
}

// observe records v in the series with the label values.
func (h *histogramVec) observe(v float64, values ...string) {
	// The first bucket whose upper bound is at least v (le is inclusive);
	// NaN is above every bound, as Prometheus's clients count it.
	i, _ := slices.BinarySearch(h.buckets, v)
	if math.IsNaN(v) {
		i = len(h.buckets)
	}
	h.update(values, func() histogram { return histogram{counts: make([]uint64, len(h.buckets)+1)} }, func(s *histogram) {
		s.counts[i]++
		s.sum += v
		s.n++
	})
}

func (h *histogramVec) family() *family {
	f := &family{name: h.name, help: h.help, typ: typeHistogram}
	h.each(func(values []string, s *histogram) {
		var cum uint64
		for i, c := range s.counts {
			cum += c
			le := math.Inf(1)
			if i < len(h.buckets) {
				le = h.buckets[i]
			}
			// le comes after the series' labels, as Prometheus's
			// clients write it.
			ls := append(pairs(h.labels, values), label{"le", string(appendFloat(nil, le))})
			f.samples = append(f.samples, sample{suffix: "_bucket", labels: ls, value: float64(cum)})
		}
		f.samples = append(f.samples,
			sample{suffix: "_sum", labels: pairs(h.labels, values), value: s.sum},
			sample{suffix: "_count", labels: pairs(h.labels, values), value: float64(s.n)})
	})
	return f
}
