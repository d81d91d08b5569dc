package dockerhub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds of the client's waiting and reading.
const (
	maxRateWaits  = 8               // 429s waited out per call
	maxRateWait   = 2 * time.Minute // total wait per call when the step has no deadline
	maxBody       = 1 << 20         // bytes read of an answer
	maxPages      = 200             // pages of the token list
	pageSize      = 100             // Docker Hub's largest page
	maxDetailLen  = 160             // bytes of Docker Hub's error detail kept
	defaultRetry  = 1 * time.Second // wait when a 429 has no usable Retry-After
	deadlineSpare = 2 * time.Second // left to the step after a wait
)

// APIError is a Docker Hub or registry answer other than success. Detail
// is Docker Hub's own message ({"detail"} or {"message"}), cut short; the
// body is never kept whole.
type APIError struct {
	Method, Path string
	Status       int
	Detail       string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Docker Hub %s %s: HTTP %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// ErrRateLimited is returned when Docker Hub keeps answering 429 longer
// than the step may wait.
var ErrRateLimited = errors.New("rate limited by Docker Hub")

// client calls Docker Hub's API and the registry's token service.
type client struct {
	http  *http.Client
	hub   *url.URL
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

type call struct {
	method string
	url    string // absolute
	bearer string
	basic  [2]string
	body   any
}

// do sends c and decodes a 2xx answer into out (when not nil). A 429 is
// waited out as its Retry-After says, as long as the wait ends before the
// context's deadline (with a little to spare); every other failure is
// returned at once.
func (cl *client) do(ctx context.Context, c call, out any) error {
	var payload []byte
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		payload = b
	}
	path := c.url
	if u, err := url.Parse(c.url); err == nil {
		path = u.Path
	}
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, c.method, c.url, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("call Docker Hub %s %s: %w", c.method, path, err)
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		switch {
		case c.bearer != "":
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		case c.basic[0] != "":
			req.SetBasicAuth(c.basic[0], c.basic[1])
		}
		resp, err := cl.http.Do(req)
		if err != nil {
			return fmt.Errorf("call Docker Hub %s %s: %w", c.method, path, scrubURLError(err))
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			wait := retryAfter(resp.Header.Get("Retry-After"), cl.now())
			if err := cl.mayWait(ctx, attempt, waited, wait); err != nil {
				return fmt.Errorf("call Docker Hub %s %s: %w", c.method, path, err)
			}
			if err := cl.sleep(ctx, wait); err != nil {
				return fmt.Errorf("call Docker Hub %s %s: waiting out a rate limit: %w", c.method, path, err)
			}
			waited += wait
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return &APIError{Method: c.method, Path: path, Status: resp.StatusCode, Detail: detail(body)}
		}
		if rerr != nil {
			return fmt.Errorf("call Docker Hub %s %s: read the answer: %w", c.method, path, rerr)
		}
		if out != nil && json.Unmarshal(body, out) != nil {
			return fmt.Errorf("call Docker Hub %s %s: the answer is not the JSON expected", c.method, path)
		}
		return nil
	}
}

// mayWait decides whether a 429 may be waited out for wait.
func (cl *client) mayWait(ctx context.Context, attempt int, waited, wait time.Duration) error {
	if attempt >= maxRateWaits {
		return fmt.Errorf("%w: still answering 429 after %d waits; try again later", ErrRateLimited, attempt)
	}
	if dl, ok := ctx.Deadline(); ok {
		if cl.now().Add(wait + deadlineSpare).After(dl) {
			return fmt.Errorf("%w: Retry-After asks for %s, more than the step has left before its deadline; the step is retried later", ErrRateLimited, wait)
		}
		return nil
	}
	if waited+wait > maxRateWait {
		return fmt.Errorf("%w: Retry-After asks for %s more, beyond %s of waiting; try again later", ErrRateLimited, wait, maxRateWait)
	}
	return nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return defaultRetry
}

// detail extracts Docker Hub's error message, cut short. Docker Hub's
// error answers never hold a token, but a word long enough to be one is
// dropped all the same.
func detail(body []byte) string {
	var m struct{ Detail, Message string }
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	d := m.Detail
	if d == "" {
		d = m.Message
	}
	words := strings.Fields(d)
	for i, w := range words {
		if len(w) > 40 || strings.HasPrefix(w, "dckr_") || strings.HasPrefix(w, "eyJ") {
			words[i] = "[redacted]"
		}
	}
	d = strings.Join(words, " ")
	if len(d) > maxDetailLen {
		d = d[:maxDetailLen] + "…"
	}
	return d
}

// scrubURLError keeps a transport error but drops the URL's query.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (cl *client) api(path string, q url.Values) string {
	u := *cl.hub
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}
