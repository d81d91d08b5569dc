package dockerhub

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/parameter"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// Name is the kind's name (tag rotor:kind=dockerhub).
const Name = "dockerhub"

// Options of the kind.
const (
	OptAccountSecret            = "account-secret"
	OptAccountUsername          = "account-username"
	OptAccountUsernameParameter = "account-username-parameter"
	OptAccountPasswordParameter = "account-password-parameter"
	OptHubURL                   = "hub-url"
	OptRegistryAuthURL          = "registry-auth-url"
	OptRegistryService          = "registry-service"
	OptScopes                   = "scopes"
	OptExpiresIn                = "expires-in"
	OptTestRepository           = "test-repository"
)

// Defaults.
const (
	DefaultHubURL          = "https://hub.docker.com"
	DefaultRegistryAuthURL = "https://auth.docker.io/token"
	DefaultRegistryService = "registry.docker.io"
	DefaultScopes          = "repo:read"
	DefaultTestRepository  = "library/alpine"
)

// The seed Lambda's environment variables: each names an SSM parameter.
const (
	EnvUsername     = "DOCKER_HUB_USERNAME"
	EnvPassword     = "DOCKER_HUB_PASSWORD"
	EnvSlackWebhook = "DOCKER_HUB_SLACK_WEBHOOK_URL"
)

var validScopes = map[string]bool{"repo:admin": true, "repo:write": true, "repo:read": true, "repo:public_read": true}

// SecretReader reads the current value of another secret.
type SecretReader interface {
	ReadSecret(ctx context.Context, id string) (secret.Value, error)
}

// Deps are the kind's dependencies.
type Deps struct {
	// HTTPClient calls Docker Hub; a client with a 30 second timeout when nil.
	HTTPClient *http.Client
	// Secrets reads the secret named by account-secret.
	Secrets SecretReader
	// Parameters reads SSM parameters (account-*-parameter and the seed's
	// variables). Nil when no AWS configuration is at hand.
	Parameters parameter.Getter
	// Env is the process environment (os.Environ()).
	Env []string
	// Now and Sleep are the clock; time.Now and a context-aware sleep when nil.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Kind returns the dockerhub kind for a registry.
func Kind(deps Deps) rotator.Kind {
	return rotator.Kind{
		Name:    Name,
		Summary: "Docker Hub access token, stored as {username, password, token_id}; managed with the account's password from another secret or SSM",
		Options: map[string]string{
			OptAccountSecret:            "id of a secret holding the account's {\"username\",\"password\"} (first choice)",
			OptAccountUsername:          "the account's user name, instead of a parameter",
			OptAccountUsernameParameter: "SSM parameter holding the account's user name (default: the one $" + EnvUsername + " names)",
			OptAccountPasswordParameter: "SSM parameter (SecureString) holding the account's password (default: the one $" + EnvPassword + " names)",
			OptHubURL:                   "Docker Hub API base URL (default " + DefaultHubURL + ")",
			OptRegistryAuthURL:          "registry token service the new token is proven against (default " + DefaultRegistryAuthURL + ")",
			OptRegistryService:          "service named to the token service (default " + DefaultRegistryService + ")",
			OptScopes:                   "comma-separated token scopes: repo:read, repo:write, repo:admin, repo:public_read (default " + DefaultScopes + ")",
			OptExpiresIn:                "token lifetime, e.g. 90d or 720h (default: no expiry); it must outlive the rotation interval",
			OptTestRepository:           "repository whose pull token testSecret requests (default " + DefaultTestRepository + ")",
			OptParametersKMSKey:         "ARN of the customer managed KMS key of the SecureString parameters, for rotor policy (aws/ssm needs no grant)",
		},
		Permissions: permissions,
		New:         func(opts rotator.Options) (rotator.Rotator, error) { return New(deps, opts) },
	}
}

// config is a secret's parsed options.
type config struct {
	hub                        *url.URL
	authURL, service, repo     string
	scopes                     []string
	expiresIn                  time.Duration
	accountSecret              string
	username                   string // given directly
	usernameParam, passwdParam string
}

func parseConfig(deps Deps, opts rotator.Options) (*config, error) {
	env := envMap(deps.Env)
	c := &config{
		authURL:       opts.String(OptRegistryAuthURL, DefaultRegistryAuthURL),
		service:       opts.String(OptRegistryService, DefaultRegistryService),
		repo:          opts.String(OptTestRepository, DefaultTestRepository),
		accountSecret: opts.String(OptAccountSecret, ""),
		username:      opts.String(OptAccountUsername, ""),
		usernameParam: opts.String(OptAccountUsernameParameter, env[EnvUsername]),
		passwdParam:   opts.String(OptAccountPasswordParameter, env[EnvPassword]),
	}
	hub, err := httpURL(OptHubURL, opts.String(OptHubURL, DefaultHubURL))
	if err != nil {
		return nil, err
	}
	c.hub = hub
	if _, err := httpURL(OptRegistryAuthURL, c.authURL); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(opts.String(OptScopes, DefaultScopes), ",") {
		s = strings.TrimSpace(s)
		if !validScopes[s] {
			return nil, fmt.Errorf("%w: option %s: want a comma-separated list of repo:read, repo:write, repo:admin, repo:public_read", rotator.ErrPermanent, OptScopes)
		}
		c.scopes = append(c.scopes, s)
	}
	if c.expiresIn, err = opts.Duration(OptExpiresIn, 0); err != nil {
		return nil, err
	}
	if c.accountSecret == "" && c.passwdParam == "" {
		return nil, fmt.Errorf("%w: no Docker Hub account credential: set the option %s (a secret holding {\"username\",\"password\"}), or %s and %s (SSM parameters), or the environment variables %s and %s naming SSM parameters; the rotated token itself cannot manage tokens",
			rotator.ErrPermanent, OptAccountSecret, OptAccountUsernameParameter, OptAccountPasswordParameter, EnvUsername, EnvPassword)
	}
	if c.accountSecret == "" && c.username == "" && c.usernameParam == "" {
		return nil, fmt.Errorf("%w: the account's password comes from SSM but its user name from nowhere: set %s, %s or $%s",
			rotator.ErrPermanent, OptAccountUsername, OptAccountUsernameParameter, EnvUsername)
	}
	return c, nil
}

func httpURL(opt, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: option %s: want an http or https URL", rotator.ErrPermanent, opt)
	}
	return u, nil
}

func envMap(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Rotator rotates one secret's Docker Hub token.
type Rotator struct {
	deps   Deps
	cfg    *config
	client *client
}

var (
	_ rotator.Rotator    = (*Rotator)(nil)
	_ rotator.Capabler   = (*Rotator)(nil)
	_ rotator.Identifier = (*Rotator)(nil)
)

// New validates opts and returns a Rotator. It makes no network call.
func New(deps Deps, opts rotator.Options) (*Rotator, error) {
	cfg, err := parseConfig(deps, opts)
	if err != nil {
		return nil, err
	}
	hc := deps.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	r := &Rotator{deps: deps, cfg: cfg}
	r.client = &client{http: hc, hub: cfg.hub, now: r.now, sleep: deps.Sleep}
	if r.client.sleep == nil {
		r.client.sleep = sleepCtx
	}
	return r, nil
}

// Capabilities: Create reads the previous version (its housekeeping
// spares the AWSPREVIOUS token), and Revoke does real work.
func (r *Rotator) Capabilities() rotator.Capabilities {
	return rotator.Capabilities{NeedsPrevious: true, Revokes: true}
}

// CredentialID names the token a value holds: its id, or the token itself
// for a value without one (the seed's).
func (r *Rotator) CredentialID(v secret.Value) string {
	val, err := parseValue(v)
	if err != nil {
		return ""
	}
	if val.TokenID != "" {
		return val.TokenID
	}
	return val.Password
}

func (r *Rotator) now() time.Time {
	if r.deps.Now != nil {
		return r.deps.Now()
	}
	return time.Now()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
