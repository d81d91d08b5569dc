package startgc

import (
	"os"
	"runtime/debug"
	"testing"
)

// While the package is initialised the collector is off; Resume puts back
// the setting the program started with.
func TestResume(t *testing.T) {
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("the collector is at %d after init, want off (-1)", got)
	}
	Resume()
	if got := debug.SetGCPercent(percent); got != percent {
		t.Fatalf("after Resume the collector is at %d, want %d", got, percent)
	}
	if percent == -1 && os.Getenv("GOGC") != "off" {
		t.Fatalf("the starting setting was read as off with GOGC=%q", os.Getenv("GOGC"))
	}
}
