// Package hubtest runs a local Docker Hub for tests: the account login
// (POST /v2/auth/token, and the deprecated /v2/users/login), the access
// token API (/v2/access-tokens) and the registry's token service. It
// enforces what Docker Hub does: only a session opened with the account's
// password may manage tokens (one opened with a personal access token gets
// 403); a token's plaintext is returned once, on create; labels are 1 to
// 100 characters; the token list is paginated with page/page_size and an
// absolute next URL; a deactivated, expired or deleted token is refused by
// the registry token service; and the API can be made to answer bursts of
// 429 with Retry-After.
package hubtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"
)

// Token is an access token as the server holds it.
type Token struct {
	UUID      string
	Label     string
	Scopes    []string
	Active    bool
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	User      string
	secret    string
}

// Config configures a Server. The zero Config is usable.
type Config struct {
	// NoAuthToken makes POST /v2/auth/token answer 404, as a mirror that
	// serves only the older /v2/users/login does.
	NoAuthToken bool
	// MaxPageSize caps page_size (Docker Hub's is 100); 100 when zero.
	MaxPageSize int
	// BurstEvery, when > 0, answers every BurstEvery-th API request with
	// 429 and Retry-After: BurstRetryAfter seconds (1 when zero).
	BurstEvery      int
	BurstRetryAfter int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Server is a running Docker Hub. URL is its hub-url; AuthURL its
// registry-auth-url.
type Server struct {
	*httptest.Server
	AuthURL string

	cfg Config

	mu       sync.Mutex
	users    map[string]string // name -> password
	tokens   map[string]*Token // uuid -> token
	sessions map[string]session
	requests int
	burst    []int // scripted 429s: Retry-After seconds of each
	seen429  int
}

type session struct {
	user    string
	viaPAT  bool
	expires time.Time
}

// New starts a server; Close it when done.
func New(cfg Config) *Server {
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 100
	}
	s := &Server{cfg: cfg, users: map[string]string{}, tokens: map[string]*Token{}, sessions: map[string]session{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/auth/token", s.limited(s.authToken))
	mux.HandleFunc("POST /v2/users/login", s.limited(s.usersLogin))
	mux.HandleFunc("POST /v2/access-tokens", s.limited(s.managed(s.createToken)))
	mux.HandleFunc("GET /v2/access-tokens", s.limited(s.managed(s.listTokens)))
	mux.HandleFunc("GET /v2/access-tokens/{uuid}", s.limited(s.managed(s.getToken)))
	mux.HandleFunc("PATCH /v2/access-tokens/{uuid}", s.limited(s.managed(s.patchToken)))
	mux.HandleFunc("DELETE /v2/access-tokens/{uuid}", s.limited(s.managed(s.deleteToken)))
	mux.HandleFunc("GET /token", s.limited(s.registryToken))
	s.Server = httptest.NewServer(mux)
	s.AuthURL = s.URL + "/token"
	return s
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// AddUser adds an account with its password.
func (s *Server) AddUser(name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name] = password
}

// IssueToken creates a token for user as Docker Hub's web UI would, and
// returns its uuid and plaintext.
func (s *Server) IssueToken(user, label string, scopes ...string) (id, plaintext string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newToken(user, label, scopes, time.Time{})
	return t.UUID, t.secret
}

// Burst makes the next API requests answer 429, one per retryAfter given
// (each with that Retry-After, in seconds).
func (s *Server) Burst(retryAfter ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.burst = append(s.burst, retryAfter...)
}

// RateLimited counts the 429 answers given.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen429
}

// Tokens lists user's tokens, active or not, sorted by uuid.
func (s *Server) Tokens(user string) []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Token
	for _, t := range s.tokens {
		if t.User == user {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

// TokenIDs lists the uuids of user's tokens, active or not: everything
// that exists and could be an orphan.
func (s *Server) TokenIDs(user string) []string {
	var ids []string
	for _, t := range s.Tokens(user) {
		ids = append(ids, t.UUID)
	}
	return ids
}

// Token returns the token with id.
func (s *Server) Token(id string) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return Token{}, false
	}
	return *t, true
}

func (s *Server) newToken(user, label string, scopes []string, expires time.Time) *Token {
	if len(scopes) == 0 {
		scopes = []string{"repo:read"}
	}
	t := &Token{UUID: uuid(), Label: label, Scopes: scopes, Active: true, CreatedAt: s.now().UTC(),
		ExpiresAt: expires, User: user, secret: "dckr_pat_" + randHex(16)}
	s.tokens[t.UUID] = t
	return t
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
