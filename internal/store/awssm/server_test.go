package awssm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/awssm"
	"github.com/rotorhq/rotor/internal/store/local"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

const (
	accessKey = "AKIDAWSSMTEST0000001"
	secretKey = "awssm-test-secret-access-key-0000000000"
	region    = "eu-west-3"
)

// request is one request the server received.
type request struct {
	op   string // the operation, from X-Amz-Target
	body map[string]any
}

// server is rotor's Secrets Manager API (smapi) over an embedded store in
// memory, without in-process rotation, on a local port. It records every
// request it receives, after the handler has seen it.
type server struct {
	t     testing.TB
	local store.Store
	srv   *httptest.Server
	logs  syncbuf.Buffer

	mu       sync.Mutex
	requests []request
}

// newServer starts a server. wrap, when given, sits in front of the
// Secrets Manager handler (to throttle, or to answer as AWS does); edit
// changes the handler's configuration.
func newServer(t testing.TB, wrap func(next http.Handler) http.Handler, edit ...func(*smapi.Config)) *server {
	t.Helper()
	s := &server{t: t, local: local.NewMemory(local.Config{Region: region, AccountID: "123456789012"})}
	cfg := smapi.Config{
		Store:       s.local,
		Credentials: map[string]string{accessKey: secretKey},
		Region:      region,
		Logger:      slog.New(slog.NewTextHandler(&s.logs, nil)),
	}
	for _, e := range edit {
		e(&cfg)
	}
	var h http.Handler = smapi.NewHandler(cfg)
	if wrap != nil {
		h = wrap(h)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		s.mu.Lock()
		s.requests = append(s.requests, request{op: operation(r), body: m})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func operation(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
}

// received returns the requests received so far and forgets them.
func (s *server) received() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.requests
	s.requests = nil
	return out
}

// awsConfig is an SDK configuration signed with the server's key.
func (s *server) awsConfig() aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:  s.srv.Client(),
	}
}

// store returns an awssm store talking to the server, retrying without
// waiting; edit, when given, changes its configuration first.
func (s *server) store(edit func(*awssm.Config)) *awssm.Store {
	s.t.Helper()
	cfg := awssm.Config{AWS: s.awsConfig(), Endpoint: s.srv.URL, Backoff: noWait(nil)}
	if edit != nil {
		edit(&cfg)
	}
	st, err := awssm.New(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// noWait is a backoff that does not wait; it counts its uses in n if given.
func noWait(n *int) retry.BackoffDelayer {
	var mu sync.Mutex
	return retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
		if n != nil {
			mu.Lock()
			*n++
			mu.Unlock()
		}
		return 0, nil
	})
}

// awsError writes an error as Secrets Manager does.
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	_, _ = w.Write(b)
}

// debugLogger logs everything, as text, to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
