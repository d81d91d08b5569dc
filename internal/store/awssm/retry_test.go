package awssm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/awssm"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// throttler answers the first n requests for operation op with Secrets
// Manager's ThrottlingException (HTTP 400), then lets requests through.
type throttler struct {
	op string
	mu sync.Mutex
	n  int // throttles left
	// seen counts the requests for op, throttled or not.
	seen int
}

func (th *throttler) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if operation(r) == th.op {
			th.mu.Lock()
			th.seen++
			throttle := th.n > 0
			if throttle {
				th.n--
			}
			th.mu.Unlock()
			if throttle {
				awsError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestThrottledCallSucceeds: a call throttled twice succeeds at the third
// attempt, after two backoffs, and counts as one call.
func TestThrottledCallSucceeds(t *testing.T) {
	th := &throttler{op: "DescribeSecret", n: 2}
	srv := newServer(t, th.wrap)
	var backoffs int
	logs := &syncbuf.Buffer{}
	st := srv.store(func(c *awssm.Config) { c.Backoff = noWait(&backoffs); c.Logger = debugLogger(logs) })
	arn := mustCreate(t, st, "throttled", "v")
	d, err := st.DescribeSecret(context.Background(), arn)
	if err != nil {
		t.Fatalf("a call throttled twice failed: %v", err)
	}
	if d.ARN != arn {
		t.Fatalf("DescribeSecret = %+v", d)
	}
	if th.seen != 3 || backoffs != 2 {
		t.Errorf("the server saw %d requests and the retryer backed off %d times, want 3 and 2", th.seen, backoffs)
	}
	if got := st.Calls()["DescribeSecret"]; got != 1 {
		t.Errorf("DescribeSecret counted %d times, want once for its three attempts", got)
	}
	if !strings.Contains(logs.String(), "operation=DescribeSecret secret="+arn+" attempts=3") {
		t.Errorf("the call's log line does not report its three attempts:\n%s", logs)
	}
}

// TestRetriesAreBounded: a call that is always throttled fails after
// exactly the configured number of attempts (the SDK's 3 by default).
func TestRetriesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		maxAttempts, want int
	}{{0, 3}, {1, 1}, {5, 5}} {
		th := &throttler{op: "DescribeSecret", n: 1000}
		srv := newServer(t, th.wrap)
		st := srv.store(func(c *awssm.Config) { c.MaxAttempts = tc.maxAttempts })
		_, err := st.DescribeSecret(context.Background(), "any")
		if err == nil {
			t.Fatalf("MaxAttempts %d: a call throttled every time succeeded", tc.maxAttempts)
		}
		if th.seen != tc.want {
			t.Errorf("MaxAttempts %d: the server saw %d attempts, want %d", tc.maxAttempts, th.seen, tc.want)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || store.CodeOf(err) != "" {
			t.Errorf("MaxAttempts %d: error %v, want the SDK's ThrottlingException and no store code", tc.maxAttempts, err)
		}
		if !strings.Contains(err.Error(), "throttled") {
			t.Errorf("the error does not say the call kept being throttled: %v", err)
		}
	}
}

// TestErrorsAreNotRetried: an answer that retrying cannot change is not retried.
func TestErrorsAreNotRetried(t *testing.T) {
	th := &throttler{op: "DescribeSecret"} // counts, never throttles
	srv := newServer(t, th.wrap)
	var backoffs int
	st := srv.store(func(c *awssm.Config) { c.Backoff = noWait(&backoffs) })
	_, err := st.DescribeSecret(context.Background(), "missing")
	if store.CodeOf(err) != store.ErrNotFound {
		t.Fatalf("DescribeSecret of a missing secret: %v", err)
	}
	if th.seen != 1 || backoffs != 0 {
		t.Errorf("a ResourceNotFoundException was retried: %d attempts, %d backoffs", th.seen, backoffs)
	}
}
