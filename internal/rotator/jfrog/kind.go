// Package jfrog is the "jfrog" credential kind: it rotates JFrog access
// tokens, the job of JFrog's own rotation Lambda (JFROG_HOST, SECRET_TTL),
// which it replaces with the same configuration names.
//
// A token that may create tokens comes from one of two places:
//
//   - The IAM role exchange (the default, as in JFrog's Lambda): the process
//     signs STS GetCallerIdentity with its own AWS credentials and JFrog
//     answers with a token of the user an admin mapped the role to (see
//     TagIAMRole). That short-lived token creates the rotated token, tagged
//     with the rotation, and then revokes itself. With the option
//     direct-exchange the exchanged token itself is stored, as the Lambda did.
//   - An existing admin or user token, read from another secret
//     (admin-token-secret) or an environment variable (admin-token-env).
//
// The secret value is the ECS private-registry format plus two fields:
// {"username", "password" (the token), "token_id", "expires_at" (RFC 3339)}.
// Create refuses a token that would expire before the next rotation ends
// (see CheckTTL). Every token's description names the secret (a digest of
// its ARN) and the rotation token, so a Create retried after a crash first
// revokes the token an earlier attempt made, and any Create revokes the
// tokens of this secret that an abandoned rotation left behind (held by
// neither AWSCURRENT nor AWSPREVIOUS, and older than ten minutes). With
// direct-exchange JFrog chooses the description, so neither applies: such
// a token left behind expires on its own. Test proves the pending token with an authenticated call
// (DefaultTestCall); Revoke revokes by id and treats a token that is gone
// as revoked, and a refusal (403) as something the token's expiry settles.
package jfrog

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// Name is the kind's name (tag rotor:kind=jfrog).
const Name = "jfrog"

// SecretReader reads the current value of another secret (the admin token's).
type SecretReader interface {
	ReadSecret(ctx context.Context, id string) (secret.Value, error)
}

// Deps are the kind's dependencies.
type Deps struct {
	// HTTPClient calls JFrog. Default: a client with a 30 second timeout.
	HTTPClient *http.Client
	// AWS gives the credentials (the standard chain, usually from
	// config.LoadDefaultConfig) and region of the IAM role exchange.
	AWS aws.Config
	// Secrets reads the secret named by the option admin-token-secret.
	Secrets SecretReader
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Env is the process environment (os.Environ()): JFROG_HOST,
	// SECRET_TTL, AWS_REGION and the variable admin-token-env names.
	Env []string
}

// Kind returns the jfrog kind for a registry.
func Kind(deps Deps) rotator.Kind {
	return rotator.Kind{
		Name:    Name,
		Summary: "JFrog access token (IAM role exchange or admin token), stored as {username, password, token_id, expires_at}",
		Options: map[string]string{
			OptHost:             "JFrog platform host or https:// URL (default: $" + EnvHost + ")",
			OptTTL:              "token lifetime, seconds or 12h (default: $" + EnvTTL + "); must outlive the rotation interval + window + margin",
			OptUsername:         "JFrog user of the token (required with an admin token; with the IAM role exchange, checked against the mapped user)",
			OptScope:            "token scope (default " + defaultScope + ")",
			OptAudience:         "token audience (default: JFrog's, *@*)",
			OptDescription:      "token description prefix (default rotor: <secret name>); markers of the secret and the rotation are appended",
			OptTestCall:         "path Test calls with the pending token (default " + DefaultTestCall + "; a /v2/ path uses basic auth)",
			OptAdminTokenSecret: "id of a secret holding a JFrog token that may create tokens (instead of the IAM role exchange)",
			OptAdminTokenEnv:    "environment variable holding such a token",
			OptRegion:           "AWS region of the IAM role exchange (default: $AWS_REGION)",
			OptSTSEndpoint:      "STS host the exchange signs for (default sts.<region>.amazonaws.com)",
			OptDirectExchange:   "store the exchanged token itself, as JFrog's Lambda did (a Create interrupted by a crash then leaves its token to expire)",
			OptSessionTTL:       "lifetime of the exchanged token used for housekeeping (default 10m)",
			OptSchedule:         "the rotation schedule (set by the engine), checked against the ttl",
			OptWindow:           "the rotation window (set by the engine), checked against the ttl",
		},
		New:         func(opts rotator.Options) (rotator.Rotator, error) { return New(deps, opts) },
		Permissions: permissions,
	}
}

// Rotator rotates one secret's JFrog token.
type Rotator struct {
	deps   Deps
	cfg    *config
	opts   rotator.Options
	client *client
}

var (
	_ rotator.Rotator  = (*Rotator)(nil)
	_ rotator.Capabler = (*Rotator)(nil)
	_ rotator.Expirer  = (*Rotator)(nil)
)

// ExpiresAt implements rotator.Expirer: the token's expires_at.
func (r *Rotator) ExpiresAt(v secret.Value) time.Time {
	val, err := parseValue(v)
	if err != nil {
		return time.Time{}
	}
	return val.expiry()
}

// CredentialID names the token a value holds: its id, or the token itself
// for a value written before ids were stored.
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

// Capabilities: Create reads the previous version (its sweep of abandoned
// tokens must spare the AWSPREVIOUS token), and Revoke does real work.
func (r *Rotator) Capabilities() rotator.Capabilities {
	return rotator.Capabilities{NeedsPrevious: true, Revokes: true}
}

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
	return &Rotator{
		deps:   deps,
		cfg:    cfg,
		opts:   opts,
		client: &client{http: hc, base: cfg.base},
	}, nil
}

func (r *Rotator) now() time.Time {
	if r.deps.Now != nil {
		return r.deps.Now()
	}
	return time.Now()
}
