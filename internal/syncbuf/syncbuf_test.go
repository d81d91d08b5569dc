package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Concurrent writes all land, whole, while String is read (run with -race
// to check the locking).
func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 800 || len(b.String()) != 800*5 {
		t.Fatalf("%d whole lines of %d bytes, want 800", n, len(b.String()))
	}
}
