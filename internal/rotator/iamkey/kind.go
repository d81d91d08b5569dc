package iamkey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// KindName is the kind's name in the rotor:kind tag.
const KindName = "iam-access-key"

// The options the kind reads (tags rotor:<option>, env ROTOR_<OPTION>).
const (
	OptUser        = "user"
	OptUserPattern = "user-pattern"
	// OptUserFrom says where the user comes from when neither the value's
	// user_name nor the user option names it: UserFromName (the
	// user-pattern on the secret's name) or UserFromKey (the owner of the
	// current key, as STS reports it).
	OptUserFrom    = "user-from"
	UserFromName   = "name"
	UserFromKey    = "key"
	OptAuth        = "auth"
	OptRevoke      = "revoke"
	OptTestTimeout = "test-timeout"
)

// Values of the auth and revoke options.
const (
	AuthRole         = "role"
	AuthSelf         = "self"
	RevokeDelete     = "delete"
	RevokeDeactivate = "deactivate"
)

// Defaults.
const (
	// DefaultUserPattern takes the last path segment of the secret's name:
	// "/access-key/jeremy.ritchie" rotates IAM user "jeremy.ritchie", as the
	// seed Lambda derives it (matched against the name, so the random suffix
	// of the ARN never gets in).
	DefaultUserPattern = `(?:^|/)([\w+=,.@-]+)$`
	DefaultTestTimeout = 60 * time.Second
)

// Deps are what the kind needs from its surroundings. All optional except
// AWS.Credentials with auth=role.
type Deps struct {
	// AWS holds the region, the function's own credentials (used with
	// auth=role) and the retryer. Region defaults to us-east-1.
	AWS aws.Config
	// IAMEndpoint and STSEndpoint, when set, are the clients' BaseEndpoint
	// (a local iamtest server in tests).
	IAMEndpoint string
	STSEndpoint string
	// HTTPClient, when set, replaces AWS.HTTPClient.
	HTTPClient interface {
		Do(*http.Request) (*http.Response, error)
	}
	// Now is the clock that bounds Test's polling; time.Now when nil. It
	// must agree with the wall clock the context's deadline is set by.
	Now func() time.Time
	// Sleep waits d or until ctx is done; a timer when nil.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Kind returns the iam-access-key kind. Its New makes no network call.
func Kind(deps Deps) rotator.Kind {
	return rotator.Kind{
		Name:    KindName,
		Summary: "an IAM user's access key pair, rotated within IAM's two-key limit",
		Options: map[string]string{
			OptUser: "IAM user name, when the secret value has no user_name field",
			OptUserPattern: "regexp with one capture group, matched against the secret's name to derive the user " +
				"when neither user_name nor the user option is set (default " + DefaultUserPattern + ", the last path segment)",
			OptUserFrom: "name (default): derive the user from the secret's name with user-pattern; key: the user whose key " +
				"AWSCURRENT holds (sts:GetCallerIdentity), when neither user_name nor the user option is set",
			OptAuth: "role (default): call IAM with rotor's own credentials; self: with the user's current key " +
				"from the secret, which needs only a policy on arn:aws:iam::*:user/${aws:username}",
			OptRevoke: "delete (default): deactivate, then delete the key leaving AWSPREVIOUS; deactivate: only deactivate it " +
				"(createSecret still deletes the previous key when the user is at IAM's limit of two)",
			OptTestTimeout: "how long testSecret waits for a new key to become valid (default 60s; never past the invocation's deadline)",
		},
		New:         func(opts rotator.Options) (rotator.Rotator, error) { return New(deps, opts) },
		Permissions: permissions,
	}
}

// Rotator rotates one secret's IAM access key.
type Rotator struct {
	deps        Deps
	user        string
	pattern     *regexp.Regexp
	userFromKey bool // user-from=key
	auth        string
	revoke      string
	testTimeout time.Duration
}

var (
	_ rotator.Rotator  = (*Rotator)(nil)
	_ rotator.Capabler = (*Rotator)(nil)
)

var userNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,64}$`) })

// New builds a Rotator from opts. It checks the options and makes no
// network call.
func New(deps Deps, opts rotator.Options) (*Rotator, error) {
	r := &Rotator{deps: deps}
	if r.deps.Now == nil {
		r.deps.Now = time.Now
	}
	if r.deps.Sleep == nil {
		r.deps.Sleep = sleep
	}
	if r.deps.AWS.Region == "" {
		r.deps.AWS.Region = "us-east-1"
	}
	r.user = opts.String(OptUser, "")
	if r.user != "" && !userNameRE().MatchString(r.user) {
		return nil, fmt.Errorf("option %s=%q is not an IAM user name (1-64 of letters, digits and +=,.@_-): %w", OptUser, r.user, rotator.ErrPermanent)
	}
	pat := opts.String(OptUserPattern, DefaultUserPattern)
	switch from := strings.ToLower(opts.String(OptUserFrom, UserFromName)); from {
	case UserFromName:
	case UserFromKey:
		r.userFromKey = true
	default:
		return nil, fmt.Errorf("option %s=%q: want %s or %s: %w", OptUserFrom, from, UserFromName, UserFromKey, rotator.ErrPermanent)
	}
	re, err := regexp.Compile(pat)
	if err != nil || re.NumSubexp() != 1 {
		return nil, fmt.Errorf("option %s=%q: want a regular expression with exactly one capture group (...) around the user name: %w", OptUserPattern, pat, rotator.ErrPermanent)
	}
	r.pattern = re
	r.auth = strings.ToLower(opts.String(OptAuth, AuthRole))
	if r.auth != AuthRole && r.auth != AuthSelf {
		return nil, fmt.Errorf("option %s=%q: want %s or %s: %w", OptAuth, r.auth, AuthRole, AuthSelf, rotator.ErrPermanent)
	}
	if r.auth == AuthRole && r.deps.AWS.Credentials == nil {
		return nil, fmt.Errorf("option %s=%s needs AWS credentials for rotor itself, and none are configured; configure them (role, environment) or set %s=%s: %w",
			OptAuth, AuthRole, OptAuth, AuthSelf, rotator.ErrPermanent)
	}
	r.revoke = strings.ToLower(opts.String(OptRevoke, RevokeDelete))
	if r.revoke != RevokeDelete && r.revoke != RevokeDeactivate {
		return nil, fmt.Errorf("option %s=%q: want %s or %s: %w", OptRevoke, r.revoke, RevokeDelete, RevokeDeactivate, rotator.ErrPermanent)
	}
	r.testTimeout, err = opts.Duration(OptTestTimeout, DefaultTestTimeout)
	if err == nil && r.testTimeout <= 0 {
		err = fmt.Errorf("option %s must be more than zero", OptTestTimeout)
	}
	if err != nil {
		return nil, errors.Join(err, rotator.ErrPermanent)
	}
	return r, nil
}

// Capabilities implements rotator.Capabler: Create reads the previous key
// (the user's second key) and may retire it to stay within IAM's limit of
// two keys; Revoke does real work and, with auth=self, signs with the
// current key.
func (r *Rotator) Capabilities() rotator.Capabilities {
	return rotator.Capabilities{NeedsPrevious: true, Revokes: true, RevokeWithCurrent: true, CreateRetiresPrevious: true}
}

// CredentialID names the key a value holds by its access key id.
func (r *Rotator) CredentialID(v secret.Value) string {
	kv, err := parseValue(v, "")
	if err != nil || !kv.hasKey() {
		return ""
	}
	return kv.keyID
}

// Set does nothing: IAM itself issues the key in Create.
func (r *Rotator) Set(context.Context, rotator.Request) error { return nil }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
