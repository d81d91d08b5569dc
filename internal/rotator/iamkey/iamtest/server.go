package iamtest

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http/httptest"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Config configures a Server. The zero Config is usable.
type Config struct {
	// Account is the 12-digit account id in ARNs; "123456789012" when empty.
	Account string
	// Now is the server's clock (key creation, propagation, signature
	// expiry); time.Now when nil.
	Now func() time.Time
	// KeyDelay is how long a key made by CreateAccessKey stays unusable
	// (InvalidClientTokenId), as IAM's eventual consistency does.
	KeyDelay time.Duration
	// MaxSkew is how far a request's X-Amz-Date may be from Now; 15 minutes,
	// as AWS, when zero.
	MaxSkew time.Duration
	// Rand is the source of key ids and secrets; crypto/rand when nil.
	Rand io.Reader
	// TokenTTL is how long an ECR authorization token is valid;
	// DefaultTokenTTL (12 hours) when zero.
	TokenTTL time.Duration
}

// User describes an IAM user to add with AddUser.
type User struct {
	Name string
	// Path is the user's IAM path, "/" when empty (e.g. "/engineering/").
	Path string
	// SelfManage attaches the self-rotation policy of the seed: the user's
	// own keys may call iam:CreateAccessKey, iam:ListAccessKeys,
	// iam:UpdateAccessKey and iam:DeleteAccessKey on
	// arn:aws:iam::*:user/${aws:username}, and nothing else in IAM.
	SelfManage bool
}

// Key is an access key as Keys reports it. It never holds the secret.
type Key struct {
	ID      string
	User    string
	Status  string // Active or Inactive
	Created time.Time
}

// Server is a running IAM + STS endpoint. Use URL as the BaseEndpoint of
// both the IAM and the STS client.
type Server struct {
	URL string

	cfg Config
	ts  *httptest.Server

	mu     sync.Mutex
	users  map[string]*user
	keys   map[string]*key // by access key id
	faults map[string][]fault
	calls  map[string]int
	reqSeq int

	registries map[string]*registry // ECR registries by account
	tokens     map[string]ecrToken  // ECR tokens by password

	webIdentities []webIdentity
}

type user struct {
	name, path, id string
	created        time.Time
	selfManage     bool
	ecr            bool // may call ecr:GetAuthorizationToken
}

// key is an access key, of a user or (user == "") of an admin role session.
type key struct {
	id, secret, token string
	user              string
	role              string // admin role name when user == ""
	status            string
	created           time.Time
	usableAt          time.Time
	lastUsed          time.Time
	lastService       string
	lastRegion        string
}

type fault struct {
	code  string
	after bool // perform the action, then answer with the error
}

// selfActions is the seed's self-rotation policy.
var selfActions = map[string]bool{
	"CreateAccessKey": true, "ListAccessKeys": true, "UpdateAccessKey": true, "DeleteAccessKey": true,
}

var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// New starts a Server on 127.0.0.1. Close it when done.
func New(cfg Config) *Server {
	if cfg.Account == "" {
		cfg.Account = "123456789012"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 15 * time.Minute
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	s := &Server{
		cfg:    cfg,
		users:  map[string]*user{},
		keys:   map[string]*key{},
		faults: map[string][]fault{},
		calls:  map[string]int{},

		registries: map[string]*registry{},
		tokens:     map[string]ecrToken{},
	}
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close(); s.closeRegistries() }

// Account returns the account id used in ARNs.
func (s *Server) Account() string { return s.cfg.Account }

// UserARN returns the ARN GetCallerIdentity reports for the user's keys.
func (s *Server) UserARN(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := "/"
	if u, ok := s.users[name]; ok {
		path = u.path
	}
	return s.userARN(path, name)
}

func (s *Server) userARN(path, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user%s%s", s.cfg.Account, path, name)
}

// AddUser creates an IAM user without keys.
func (s *Server) AddUser(u User) error {
	if !userNameRE.MatchString(u.Name) {
		return fmt.Errorf("iamtest: invalid user name %q", u.Name)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.users[u.Name]; dup {
		return fmt.Errorf("iamtest: user %q exists", u.Name)
	}
	s.users[u.Name] = &user{name: u.Name, path: u.Path, id: "AIDA" + s.randID(16),
		created: s.cfg.Now(), selfManage: u.SelfManage}
	return nil
}

// SeedKey gives an existing user a key that is usable at once (an old key,
// made before the test began) and returns its credentials. It obeys the
// two-key limit.
func (s *Server) SeedKey(userName string) (aws.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userName]; !ok {
		return aws.Credentials{}, fmt.Errorf("iamtest: no user %q", userName)
	}
	if len(s.keysOf(userName)) >= 2 {
		return aws.Credentials{}, fmt.Errorf("iamtest: user %q already has 2 keys", userName)
	}
	k := s.newKey(userName, "AKIA", 0)
	return aws.Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret, Source: "iamtest"}, nil
}

// AddAdmin returns temporary credentials (with a session token, as an
// assumed role has) of a principal allowed every IAM action on every user:
// the function's own role in auth=role mode.
func (s *Server) AddAdmin(role string) aws.Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.newKey("", "ASIA", 0)
	k.role = role
	k.token = "IQoJ" + s.randSecret(80)
	return aws.Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret, SessionToken: k.token, Source: "iamtest"}
}

// Keys lists the user's access keys, oldest first.
func (s *Server) Keys(userName string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for _, k := range s.keysOf(userName) {
		out = append(out, Key{ID: k.id, User: k.user, Status: k.status, Created: k.created})
	}
	return out
}

// FailNext makes the next authenticated call of action fail with the AWS
// error code (LimitExceeded, NoSuchEntity, AccessDenied, ServiceFailure,
// Throttling, ...) without doing anything. Calls queue up.
func (s *Server) FailNext(action, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], fault{code: code})
}

// FailNextAfter makes the next authenticated call of action take effect and
// then answer with the error code: a response lost on the way back, e.g. a
// key created whose secret the caller never sees.
func (s *Server) FailNextAfter(action, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], fault{code: code, after: true})
}

// Calls reports how many authenticated calls of action the server received.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// keysOf returns the user's keys sorted by creation. Callers hold s.mu.
func (s *Server) keysOf(userName string) []*key {
	var ks []*key
	for _, k := range s.keys {
		if k.user == userName && userName != "" {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if !ks[i].created.Equal(ks[j].created) {
			return ks[i].created.Before(ks[j].created)
		}
		return ks[i].id < ks[j].id
	})
	return ks
}

// newKey makes an Active key usable after delay. Callers hold s.mu.
func (s *Server) newKey(userName, prefix string, delay time.Duration) *key {
	now := s.cfg.Now()
	k := &key{id: prefix + s.randID(16), secret: s.randSecret(40), user: userName,
		status: "Active", created: now, usableAt: now.Add(delay)}
	s.keys[k.id] = k
	return k
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func (s *Server) randID(n int) string     { return s.randFrom(idAlphabet, n) }
func (s *Server) randSecret(n int) string { return s.randFrom(secretAlphabet, n) }

func (s *Server) randFrom(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		panic("iamtest: random source failed: " + err.Error())
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
