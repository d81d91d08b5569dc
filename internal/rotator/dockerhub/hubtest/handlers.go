package hubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sessionTTL is how long a login JWT lasts, as on Docker Hub (minutes).
const sessionTTL = 10 * time.Minute

// maxLabel is Docker Hub's limit on a token label.
const maxLabel = 100

var validScopes = map[string]bool{"repo:admin": true, "repo:write": true, "repo:read": true, "repo:public_read": true}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]string{"detail": detail, "message": detail})
}

// limited answers the scripted or periodic 429s before the handler.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		after := -1
		switch {
		case len(s.burst) > 0:
			after, s.burst = s.burst[0], s.burst[1:]
		case s.cfg.BurstEvery > 0 && s.requests%s.cfg.BurstEvery == 0:
			after = max(s.cfg.BurstRetryAfter, 1)
		}
		if after >= 0 {
			s.seen429++
		}
		s.mu.Unlock()
		if after >= 0 {
			w.Header().Set("Retry-After", strconv.Itoa(after))
			w.Header().Set("X-RateLimit-Remaining", "0")
			fail(w, http.StatusTooManyRequests, "too many requests")
			return
		}
		h(w, r)
	}
}

func decode(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	return err == nil && json.Unmarshal(b, v) == nil
}

// login checks a user's secret: the password, or one of their active
// tokens (which gives a session that may not manage tokens).
func (s *Server) login(user, secret string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.users[user]
	if !ok || secret == "" {
		return "", false
	}
	viaPAT := false
	if secret != pw {
		t := s.byPlaintext(secret)
		if t == nil || t.User != user || !s.usable(t) {
			return "", false
		}
		viaPAT = true
	}
	jwt := "eyJhbGciOiJIUzI1NiJ9." + randHex(24)
	s.sessions[jwt] = session{user: user, viaPAT: viaPAT, expires: s.now().Add(sessionTTL)}
	return jwt, true
}

func (s *Server) byPlaintext(secret string) *Token {
	for _, t := range s.tokens {
		if t.secret == secret {
			return t
		}
	}
	return nil
}

func (s *Server) usable(t *Token) bool {
	return t.Active && (t.ExpiresAt.IsZero() || s.now().Before(t.ExpiresAt))
}

func (s *Server) authToken(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoAuthToken {
		http.NotFound(w, r)
		return
	}
	var in struct{ Identifier, Secret string }
	if !decode(r, &in) || in.Identifier == "" {
		fail(w, http.StatusBadRequest, "identifier and secret are required")
		return
	}
	jwt, ok := s.login(in.Identifier, in.Secret)
	if !ok {
		fail(w, http.StatusUnauthorized, "incorrect username or password")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": jwt})
}

func (s *Server) usersLogin(w http.ResponseWriter, r *http.Request) {
	var in struct{ Username, Password string }
	if !decode(r, &in) || in.Username == "" {
		fail(w, http.StatusBadRequest, "username and password are required")
		return
	}
	jwt, ok := s.login(in.Username, in.Password)
	if !ok {
		fail(w, http.StatusUnauthorized, "Incorrect authentication credentials.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": jwt})
}

// managed admits a request only with a live session opened with the
// account's password.
func (s *Server) managed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		sess, known := s.sessions[jwt]
		s.mu.Unlock()
		switch {
		case !ok || !known || !s.now().Before(sess.expires):
			fail(w, http.StatusUnauthorized, "authentication credentials were not provided or have expired")
		case sess.viaPAT:
			fail(w, http.StatusForbidden, "access tokens cannot be managed with a session obtained with a personal access token")
		default:
			h(w, r, sess.user)
		}
	}
}

func (t *Token) json(withSecret bool) map[string]any {
	m := map[string]any{"uuid": t.UUID, "token_label": t.Label, "scopes": t.Scopes, "is_active": t.Active,
		"created_at": t.CreatedAt.Format(time.RFC3339), "last_used": nil, "creator_ua": "", "creator_ip": "",
		"generated_by": "manual"}
	if !t.ExpiresAt.IsZero() {
		m["expires_at"] = t.ExpiresAt.Format(time.RFC3339)
	}
	if withSecret {
		m["token"] = t.secret
	}
	return m
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, user string) {
	var in struct {
		Label     string   `json:"token_label"`
		Scopes    []string `json:"scopes"`
		ExpiresAt string   `json:"expires_at"`
	}
	if !decode(r, &in) {
		fail(w, http.StatusBadRequest, "invalid JSON")
		return
	}
	if n := len([]rune(in.Label)); n < 1 || n > maxLabel {
		fail(w, http.StatusBadRequest, fmt.Sprintf("token_label must be 1 to %d characters", maxLabel))
		return
	}
	for _, sc := range in.Scopes {
		if !validScopes[sc] {
			fail(w, http.StatusBadRequest, "invalid scope")
			return
		}
	}
	var exp time.Time
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		if err != nil || !t.After(s.now()) {
			fail(w, http.StatusBadRequest, "expires_at must be a future RFC 3339 time")
			return
		}
		exp = t
	}
	s.mu.Lock()
	t := s.newToken(user, in.Label, in.Scopes, exp)
	out := t.json(true)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	page, size := 1, 10
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusBadRequest, "invalid page")
			return
		}
		page = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusBadRequest, "invalid page_size")
			return
		}
		size = min(n, s.cfg.MaxPageSize)
	}
	all := s.Tokens(user)
	active := 0
	for _, t := range all {
		if t.Active {
			active++
		}
	}
	from := (page - 1) * size
	if from > len(all) {
		fail(w, http.StatusNotFound, "invalid page")
		return
	}
	to := min(from+size, len(all))
	results := []map[string]any{}
	for i := from; i < to; i++ {
		results = append(results, all[i].json(false))
	}
	var next, prev any
	if to < len(all) {
		next = fmt.Sprintf("%s/v2/access-tokens?page=%d&page_size=%d", s.URL, page+1, size)
	}
	if page > 1 {
		prev = fmt.Sprintf("%s/v2/access-tokens?page=%d&page_size=%d", s.URL, page-1, size)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(all), "next": next, "previous": prev,
		"active_count": active, "results": results})
}

// owned returns the caller's token named in the path, or answers 404.
func (s *Server) owned(w http.ResponseWriter, r *http.Request, user string) *Token {
	t, ok := s.tokens[r.PathValue("uuid")]
	if !ok || t.User != user {
		fail(w, http.StatusNotFound, "token not found")
		return nil
	}
	return t
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.owned(w, r, user); t != nil {
		writeJSON(w, http.StatusOK, t.json(false))
	}
}

func (s *Server) patchToken(w http.ResponseWriter, r *http.Request, user string) {
	var in struct {
		Active *bool   `json:"is_active"`
		Label  *string `json:"token_label"`
	}
	if !decode(r, &in) {
		fail(w, http.StatusBadRequest, "invalid JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.owned(w, r, user)
	if t == nil {
		return
	}
	if in.Label != nil {
		if n := len([]rune(*in.Label)); n < 1 || n > maxLabel {
			fail(w, http.StatusBadRequest, fmt.Sprintf("token_label must be 1 to %d characters", maxLabel))
			return
		}
		t.Label = *in.Label
	}
	if in.Active != nil {
		t.Active = *in.Active
	}
	writeJSON(w, http.StatusOK, t.json(false))
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.owned(w, r, user); t != nil {
		delete(s.tokens, t.UUID)
		w.WriteHeader(http.StatusNoContent)
	}
}

// registryToken is the registry's token service: basic auth with the
// account's password or an active token gives a bearer token.
func (s *Server) registryToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("service") != "registry.docker.io" {
		fail(w, http.StatusBadRequest, "unknown service")
		return
	}
	scope := q.Get("scope")
	if !strings.HasPrefix(scope, "repository:") || !strings.HasSuffix(scope, ":pull") {
		fail(w, http.StatusBadRequest, "invalid scope")
		return
	}
	user, secret, ok := r.BasicAuth()
	s.mu.Lock()
	t := s.byPlaintext(secret)
	good := ok && ((t != nil && t.User == user && s.usable(t)) || (secret != "" && s.users[user] == secret))
	s.mu.Unlock()
	if !good {
		w.Header().Set("WWW-Authenticate", `Basic realm="Docker Hub"`)
		fail(w, http.StatusUnauthorized, "incorrect username or password")
		return
	}
	tok := "eyJhbGciOiJSUzI1NiJ9." + randHex(24)
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}
