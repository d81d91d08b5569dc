package metrics

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The exact text of a counter and a histogram, and what Prometheus's
// parser reads back from it.
func TestWriteText(t *testing.T) {
	c := newCounterVec("x_total", "Counts\\things\nof two lines.", "b", "a")
	c.inc("2", "1")
	c.inc("2", "1")
	c.inc(`q"uo\te`+"\n", "é")
	h := newHistogramVec("y_seconds", "Takes.", []float64{0.5, 1}, "k")
	h.observe(0.5, "v") // on a bound: in its bucket (le is inclusive)
	h.observe(0.7, "v")
	h.observe(3, "v")
	var buf bytes.Buffer
	if err := writeText(&buf, []*family{h.family(), c.family(), {name: "empty", help: "none", typ: typeGauge}}); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_total Counts\\things\nof two lines.
# TYPE x_total counter
x_total{a="1",b="2"} 2
x_total{a="é",b="q\"uo\\te\n"} 1
# HELP y_seconds Takes.
# TYPE y_seconds histogram
y_seconds_bucket{k="v",le="0.5"} 1
y_seconds_bucket{k="v",le="1"} 2
y_seconds_bucket{k="v",le="+Inf"} 3
y_seconds_sum{k="v"} 4.2
y_seconds_count{k="v"} 3
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := fams["x_total"].GetHelp(); got != "Counts\\things\nof two lines." {
		t.Errorf("help read back as %q", got)
	}
	odd := fams["x_total"].GetMetric()[1]
	if got := odd.GetLabel()[1].GetValue(); got != `q"uo\te`+"\n" || odd.GetCounter().GetValue() != 1 {
		t.Errorf("label value read back as %q (%v)", got, odd)
	}
	hist := fams["y_seconds"].GetMetric()[0].GetHistogram()
	if hist.GetSampleCount() != 3 || hist.GetSampleSum() != 4.2 || hist.GetBucket()[0].GetCumulativeCount() != 1 {
		t.Errorf("histogram read back as %v", hist)
	}
}

func TestAppendFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 1: "1", 0.005: "0.005", 1e21: "1e+21", -2.5: "-2.5",
		math.Inf(1): "+Inf", math.Inf(-1): "-Inf", math.NaN(): "NaN",
	} {
		if got := string(appendFloat(nil, v)); got != want {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}

// Concurrent updates lose nothing (run with -race).
func TestConcurrentUpdates(t *testing.T) {
	c := newCounterVec("c_total", "c", "l")
	h := newHistogramVec("h_seconds", "h", []float64{1}, "l")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				c.inc(string(rune('a' + i%2)))
				h.observe(0.5, "x")
				_ = h.family()
			}
		})
	}
	wg.Wait()
	if a, b := c.value("a"), c.value("b"); a != 4000 || b != 4000 {
		t.Errorf("counts %v and %v, want 4000 each", a, b)
	}
	var buf bytes.Buffer
	if err := writeText(&buf, []*family{h.family()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `h_seconds_count{l="x"} 8000`) {
		t.Errorf("histogram:\n%s", buf.String())
	}
}

func TestWrongLabelCount(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a counter took the wrong number of label values")
		}
	}()
	newCounterVec("c_total", "c", "a", "b").inc("only one")
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false,
		"gzip; q=0.000": false, "br, identity": false, "x-gzip": false, "gzip;level=1": true,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", h, got, want)
		}
	}
}

func TestNaNObservation(t *testing.T) {
	h := newHistogramVec("h_seconds", "h", []float64{1}, "l")
	h.observe(math.NaN(), "x")
	var buf bytes.Buffer
	if err := writeText(&buf, []*family{h.family()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `h_seconds_bucket{l="x",le="1"} 0`) || !strings.Contains(buf.String(), `h_seconds_bucket{l="x",le="+Inf"} 1`) {
		t.Errorf("NaN is not above every bound:\n%s", buf.String())
	}
}

func TestProcFiles(t *testing.T) {
	limits := []byte(`Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max address space         unlimited            unlimited            bytes
`)
	if n, ok := softLimit(limits, "Max open files"); !ok || n != 1024 {
		t.Errorf("Max open files: %v %v", n, ok)
	}
	if n, ok := softLimit(limits, "Max address space"); !ok || n != math.MaxUint64 {
		t.Errorf("Max address space: %v %v, want the largest uint64 for unlimited", n, ok)
	}
	if _, ok := softLimit(limits, "Max locked memory"); ok {
		t.Error("a missing limit was read")
	}
	netstat := []byte(`TcpExt: SyncookiesSent SyncookiesRecv
TcpExt: 0 0
IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InMcastOctets
IpExt: 0 0 0 0 0 0 123456 7890 0
`)
	if in, out, ok := parseNetstat(netstat); !ok || in != 123456 || out != 7890 {
		t.Errorf("netstat: in %v out %v ok %v", in, out, ok)
	}
	if _, _, ok := parseNetstat([]byte("TcpExt: A\nTcpExt: 1\n")); ok {
		t.Error("netstat without IpExt read")
	}
}
