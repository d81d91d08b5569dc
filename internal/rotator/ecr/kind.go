package ecr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/awsapi"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// Name is the kind's name in the rotor:kind tag.
const Name = "ecr"

// The options the kind reads.
const (
	OptRegion        = "region"
	OptRegistries    = "registries"
	OptKeySecret     = "key-secret"
	OptRefreshBefore = "refresh-before"
	OptFormat        = "format"
	OptEndpoint      = "ecr-endpoint"
	OptTestTimeout   = "test-timeout"
)

// Formats of the value.
const (
	FormatDockerConfig = "dockerconfigjson"
	FormatECS          = "ecs"
)

// Defaults.
const (
	DefaultRefreshBefore = 3 * time.Hour
	DefaultTestTimeout   = 30 * time.Second
)

// SecretReader reads the current value of another secret (key-secret).
type SecretReader interface {
	ReadSecret(ctx context.Context, id string) (secret.Value, error)
}

// Deps are what the kind needs from its surroundings.
type Deps struct {
	// AWS returns rotor's own AWS configuration (region, default
	// credentials): called only when a rotation needs it.
	AWS func() (aws.Config, error)
	// Secrets reads key-secret.
	Secrets SecretReader
	// HTTPClient calls the registries in Test; http.DefaultClient's
	// transport with a timeout when nil. ECR calls use AWS's HTTP client.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Endpoint is the default of the option ecr-endpoint.
	Endpoint string
}

// Kind returns the ecr kind.
func Kind(deps Deps) rotator.Kind {
	return rotator.Kind{
		Name:    Name,
		Summary: "Amazon ECR pull credentials (12-hour tokens) as a Docker config, refreshed before they expire",
		Options: map[string]string{
			OptRegion:     "the registries' AWS region (default: rotor's AWS region)",
			OptRegistries: "comma-separated registry ids (AWS account ids) to put in one Docker config (default: the caller's own registry)",
			OptKeySecret: "a secret holding the IAM key {\"access_key_id\", \"secret_access_key\"} to call ECR with " +
				"(default: rotor's own AWS identity, e.g. the pod's IRSA role)",
			OptRefreshBefore: "without a rotation schedule, refresh when the tokens expire within this (default 3h)",
			OptFormat:        "dockerconfigjson (default): {\"auths\": {...}}; ecs: {\"username\", \"password\", \"registry\"}, for one registry",
			OptEndpoint:      "the ECR API endpoint URL (a VPC endpoint; default: the region's)",
			OptTestTimeout:   "how long testSecret waits for a registry (default 30s)",
		},
		New:         func(o rotator.Options) (rotator.Rotator, error) { return New(deps, o) },
		Permissions: permissions,
		After:       true,
	}
}

// Rotator refreshes one secret's ECR credentials.
type Rotator struct {
	deps          Deps
	region        string
	registries    []string
	keySecret     string
	refreshBefore time.Duration
	format        string
	endpoint      string
	testTimeout   time.Duration
}

var (
	_ rotator.Rotator   = (*Rotator)(nil)
	_ rotator.Capabler  = (*Rotator)(nil)
	_ rotator.Refresher = (*Rotator)(nil)
	_ rotator.Expirer   = (*Rotator)(nil)
)

var registryIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })

// New builds a Rotator from opts; it makes no network call.
func New(deps Deps, opts rotator.Options) (*Rotator, error) {
	r := &Rotator{deps: deps, region: opts.String(OptRegion, ""), keySecret: opts.String(OptKeySecret, ""),
		endpoint: opts.String(OptEndpoint, deps.Endpoint)}
	if r.deps.Now == nil {
		r.deps.Now = time.Now
	}
	if r.deps.HTTPClient == nil {
		r.deps.HTTPClient = &http.Client{Timeout: DefaultTestTimeout}
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, rotator.ErrPermanent)...)
	}
	for _, id := range strings.Split(opts.String(OptRegistries, ""), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if !registryIDRE().MatchString(id) {
			return nil, bad("option %s: %q is not a registry id (a 12-digit AWS account id)", OptRegistries, id)
		}
		r.registries = append(r.registries, id)
	}
	if len(r.registries) > 10 {
		return nil, bad("option %s: at most 10 registries (ECR's limit per call)", OptRegistries)
	}
	switch r.format = strings.ToLower(opts.String(OptFormat, FormatDockerConfig)); r.format {
	case FormatDockerConfig:
	case FormatECS:
		if len(r.registries) > 1 {
			return nil, bad("option %s=%s holds one registry; %s names %d: use %s=%s", OptFormat, FormatECS, OptRegistries, len(r.registries), OptFormat, FormatDockerConfig)
		}
	default:
		return nil, bad("option %s=%q: want %s or %s", OptFormat, r.format, FormatDockerConfig, FormatECS)
	}
	var err error
	if r.refreshBefore, err = opts.Duration(OptRefreshBefore, DefaultRefreshBefore); err == nil && (r.refreshBefore < 0 || r.refreshBefore >= 12*time.Hour) {
		err = fmt.Errorf("option %s must be at least 0 and less than 12h, the life of an ECR token", OptRefreshBefore)
	}
	if err == nil {
		if r.testTimeout, err = opts.Duration(OptTestTimeout, DefaultTestTimeout); err == nil && r.testTimeout <= 0 {
			err = fmt.Errorf("option %s must be more than zero", OptTestTimeout)
		}
	}
	if err != nil {
		return nil, errors.Join(err, rotator.ErrPermanent)
	}
	if r.endpoint != "" {
		if u, err := url.Parse(r.endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, bad("option %s: want an http(s) URL", OptEndpoint)
		}
	}
	if r.keySecret != "" && deps.Secrets == nil {
		return nil, bad("option %s needs a store to read it from", OptKeySecret)
	}
	return r, nil
}

// Capabilities: ECR tokens expire on their own; there is nothing to set or
// revoke.
func (r *Rotator) Capabilities() rotator.Capabilities { return rotator.Capabilities{} }

// Set does nothing: ECR issues the token in Create.
func (r *Rotator) Set(context.Context, rotator.Request) error { return nil }

// Revoke does nothing: an ECR token cannot be revoked, it expires.
func (r *Rotator) Revoke(context.Context, rotator.Request) error { return nil }

// RefreshAt is when the credentials v holds should be replaced: refresh-
// before their expiry. Zero when v holds no expiry.
func (r *Rotator) RefreshAt(v secret.Value) time.Time {
	exp := ExpiresAt(v)
	if exp.IsZero() {
		return exp
	}
	return exp.Add(-r.refreshBefore)
}

// ExpiresAt implements rotator.Expirer: the earliest expiry of v's tokens.
func (r *Rotator) ExpiresAt(v secret.Value) time.Time { return ExpiresAt(v) }

// ExpiresAt is the expiry recorded in a value of this kind, zero when none.
func ExpiresAt(v secret.Value) time.Time {
	var head struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if v.IsBinary() || json.Unmarshal(v.Bytes(), &head) != nil {
		return time.Time{}
	}
	return head.ExpiresAt
}

// Create calls GetAuthorizationToken and returns the new value.
func (r *Rotator) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	client, who, err := r.client(ctx)
	if err != nil {
		return secret.Value{}, err
	}
	// registryIds is deprecated because one token serves every registry
	// the principal may pull from; it is still how ECR names each
	// registry's proxy endpoint in the answer, which the Docker config is
	// keyed by.
	in := struct {
		RegistryIDs []string `json:"registryIds,omitempty"`
	}{r.registries}
	var out struct {
		AuthorizationData []struct {
			AuthorizationToken *string  `json:"authorizationToken"`
			ExpiresAt          *float64 `json:"expiresAt"` // seconds since the epoch
			ProxyEndpoint      *string  `json:"proxyEndpoint"`
		} `json:"authorizationData"`
	}
	if err := client.JSON(ctx, "AmazonEC2ContainerRegistry_V20150921", "GetAuthorizationToken", in, &out); err != nil {
		return secret.Value{}, fmt.Errorf("ecr:GetAuthorizationToken with %s: %w", who, err)
	}
	auths := map[string]authEntry{}
	var expires time.Time
	var hosts []string
	for _, d := range out.AuthorizationData {
		if d.AuthorizationToken == nil || d.ProxyEndpoint == nil || d.ExpiresAt == nil {
			return secret.Value{}, errors.New("ecr:GetAuthorizationToken answered without a token, endpoint or expiry")
		}
		raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
		user, pw, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok || user == "" || pw == "" {
			return secret.Value{}, errors.New("ecr:GetAuthorizationToken answered with a token that is not base64 of user:password")
		}
		host, err := hostOf(*d.ProxyEndpoint)
		if err != nil {
			return secret.Value{}, err
		}
		auths[host] = authEntry{Username: user, Password: pw, Auth: *d.AuthorizationToken}
		hosts = append(hosts, host)
		sec, frac := math.Modf(*d.ExpiresAt)
		at := time.Unix(int64(sec), int64(frac*1e9)).UTC()
		if expires.IsZero() || at.Before(expires) {
			expires = at
		}
	}
	if len(auths) == 0 {
		return secret.Value{}, errors.New("ecr:GetAuthorizationToken answered with no authorization data")
	}
	if want := max(len(r.registries), 1); len(auths) != want {
		return secret.Value{}, fmt.Errorf("ecr:GetAuthorizationToken answered for %d registries, want %d", len(auths), want)
	}
	sort.Strings(hosts)
	req.Log().Info("ECR tokens issued", "kind", Name, "secret", req.Name, "registries", strings.Join(hosts, ","),
		"expires_at", expires.Format(time.RFC3339))
	var b []byte
	if r.format == FormatECS {
		a := auths[hosts[0]]
		b, err = json.Marshal(ecsValue{Username: a.Username, Password: a.Password, Registry: hosts[0], ExpiresAt: expires})
	} else {
		b, err = json.Marshal(dockerConfig{Auths: auths, ExpiresAt: expires})
	}
	if err != nil {
		return secret.Value{}, err
	}
	return secret.New(string(b)), nil
}

// Test proves each registry accepts its new token.
func (r *Rotator) Test(ctx context.Context, req rotator.Request) error {
	entries, err := parse(req.Pending)
	if err != nil {
		return fmt.Errorf("%w: test the pending ECR credentials: %v", rotator.ErrPermanent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.testTimeout)
	defer cancel()
	for _, e := range entries {
		if err := r.probe(ctx, e); err != nil {
			return err
		}
	}
	req.Log().Info("the pending ECR tokens work", "kind", Name, "secret", req.Name, "registries", len(entries))
	return nil
}

func (r *Rotator) probe(ctx context.Context, e registryAuth) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+e.host+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("%w: registry %q is not a host name", rotator.ErrPermanent, e.host)
	}
	hreq.SetBasicAuth(e.user, e.password)
	resp, err := r.deps.HTTPClient.Do(hreq)
	if err != nil {
		return fmt.Errorf("test the pending ECR token of %s: %w", e.host, scrubURLError(err))
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("test the pending ECR token of %s: the registry refused it (HTTP 401)", e.host)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("test the pending ECR token of %s: the registry answered HTTP %d; try again later", e.host, resp.StatusCode)
	}
	return nil
}

// scrubURLError keeps a transport error's cause, never a URL with user
// information (the request carries the token in a header, not the URL, but
// a redirect's URL is the server's).
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// client returns the ECR client and a description of whose identity it
// uses.
func (r *Rotator) client(ctx context.Context) (*awsapi.Client, string, error) {
	if r.deps.AWS == nil {
		return nil, "", errors.New("no AWS configuration")
	}
	cfg, err := r.deps.AWS()
	if err != nil {
		return nil, "", err
	}
	who := "rotor's own AWS identity"
	if r.keySecret != "" {
		v, err := r.deps.Secrets.ReadSecret(ctx, r.keySecret)
		if err != nil {
			return nil, "", fmt.Errorf("read the IAM key of %s=%s: %w", OptKeySecret, r.keySecret, err)
		}
		k, err := parseKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("%w: the secret %s (%s): %v", rotator.ErrPermanent, r.keySecret, OptKeySecret, err)
		}
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(k.ID, k.Secret, k.Token))
		who = "the key " + k.ID + " of " + r.keySecret
	} else if cfg.Credentials == nil {
		return nil, "", fmt.Errorf("%w: no AWS credentials for rotor, and no %s: give the pod an IAM role (IRSA) or set %s", rotator.ErrPermanent, OptKeySecret, OptKeySecret)
	}
	if r.region != "" {
		cfg.Region = r.region
	}
	if cfg.Region == "" {
		return nil, "", fmt.Errorf("%w: no AWS region: set the option %s (or AWS_REGION)", rotator.ErrPermanent, OptRegion)
	}
	c := awsapi.New(cfg, ecrService)
	if r.endpoint != "" {
		c = c.WithEndpoint(r.endpoint)
	}
	return c, who, nil
}

// ecrService is ECR's API; the SDK's ECR client is not linked (see
// internal/awsapi).
var ecrService = awsapi.Service{ID: "ECR", SigningName: "ecr",
	Endpoint: awsapi.Regional("api.ecr.{region}", "api.ecr-fips.{region}", "ecr.{region}", "ecr-fips.{region}")}

func hostOf(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("ecr:GetAuthorizationToken answered with proxy endpoint %q, not a URL", endpoint)
	}
	return u.Host, nil
}
