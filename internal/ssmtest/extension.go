package ssmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Extension is the local HTTP interface of the AWS Parameters and Secrets
// Lambda extension: GET /systemsmanager/parameters/get?name=N&withDecryption=true
// with the header X-Aws-Parameters-Secrets-Token set to the function's
// AWS_SESSION_TOKEN, answered from the parameters of a Server.
type Extension struct {
	*httptest.Server
	ssm   *Server
	token string

	mu    sync.Mutex
	calls int
}

// NewExtension serves s's parameters to callers that present token.
func NewExtension(s *Server, token string) *Extension {
	e := &Extension{ssm: s, token: token}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Calls counts the requests answered with a value.
func (e *Extension) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

func (e *Extension) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/systemsmanager/parameters/get" && r.URL.Path != "/systemsmanager/parameters/get/" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("X-Aws-Parameters-Secrets-Token") != e.token || e.token == "" {
		http.Error(w, "missing or wrong X-Aws-Parameters-Secrets-Token", http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	out, ok := e.ssm.get(q.Get("name"), q.Get("withDecryption") == "true")
	if !ok {
		http.Error(w, "ParameterNotFound", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
