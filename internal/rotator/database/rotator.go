package database

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
)

// Options of both kinds, beside the password options of the password kind
// (length, exclude-characters, ...), which shape the generated passwords.
const (
	OptStrategy    = "strategy"
	OptTLS         = "tls"
	OptCAFile      = "ca-file"
	OptCloneSuffix = "clone-suffix"
	OptTimeout     = "connect-timeout"
)

// Strategies.
const (
	SingleUser       = "single-user"
	AlternatingUsers = "alternating-users"
)

// DefaultCloneSuffix makes the second user of alternating-users.
const DefaultCloneSuffix = "_clone"

// SecretReader reads the current value of another secret (the master's).
type SecretReader interface {
	ReadSecret(ctx context.Context, id string) (secret.Value, error)
}

// Deps are the kinds' dependencies.
type Deps struct {
	// Secrets reads the secret masterarn names (alternating-users).
	Secrets SecretReader
}

func kind(name, summary string, drv driver, deps Deps) rotator.Kind {
	opts := map[string]string{
		OptStrategy:     "single-user (default: the user changes its own password) or alternating-users (the superuser secret named by the value's masterarn switches between <username> and <username>" + DefaultCloneSuffix + ")",
		OptTLS:          "true (default: TLS, verify-full against ca-file when it is set, unverified otherwise) or false (no TLS: only for a database on a trusted network)",
		OptCAFile:       "PEM file of the CA(s) that sign the database's certificate (e.g. the RDS bundle); with it the server's certificate and name are verified",
		OptCloneSuffix:  "suffix of the second user of alternating-users (default " + DefaultCloneSuffix + ")",
		OptTimeout:      "how long to wait for a connection (default 10s)",
		OptMasterSecret: "ARN of the secret masterarn names, for rotor policy (alternating-users)",
	}
	for k, v := range map[string]string{
		password.OptLength: "length of generated passwords (default 32)", password.OptExcludeCharacters: "characters generated passwords never contain",
		password.OptExcludeNumbers: "true: no digits", password.OptExcludePunctuation: "true: no punctuation",
		password.OptExcludeUppercase: "true: no upper case letters", password.OptExcludeLowercase: "true: no lower case letters",
		password.OptIncludeSpace: "true: spaces allowed", password.OptRequireEachIncludedType: "true: at least one character of each type",
	} {
		opts[k] = v
	}
	return rotator.Kind{
		Name: name, Summary: summary, Options: opts, Permissions: permissions,
		New: func(o rotator.Options) (rotator.Rotator, error) { return newRotator(drv, deps, o) },
	}
}

// Rotator rotates one database secret.
type Rotator struct {
	drv         driver
	deps        Deps
	alternating bool
	suffix      string
	useTLS      bool
	caFile      string
	timeout     time.Duration
	policy      password.Policy
}

var (
	_ rotator.Rotator    = (*Rotator)(nil)
	_ rotator.Capabler   = (*Rotator)(nil)
	_ rotator.Identifier = (*Rotator)(nil)
)

func newRotator(drv driver, deps Deps, o rotator.Options) (*Rotator, error) {
	r := &Rotator{drv: drv, deps: deps, suffix: o.String(OptCloneSuffix, DefaultCloneSuffix), caFile: o.String(OptCAFile, "")}
	switch s := o.String(OptStrategy, SingleUser); s {
	case SingleUser:
	case AlternatingUsers:
		r.alternating = true
	default:
		return nil, fmt.Errorf("%w: option %s: want %s or %s", rotator.ErrPermanent, OptStrategy, SingleUser, AlternatingUsers)
	}
	var err error
	if r.useTLS, err = o.Bool(OptTLS, true); err != nil {
		return nil, err
	}
	if !r.useTLS && r.caFile != "" {
		return nil, fmt.Errorf("%w: option %s is set but %s=false: drop one of them", rotator.ErrPermanent, OptCAFile, OptTLS)
	}
	if r.timeout, err = o.Duration(OptTimeout, 10*time.Second); err != nil {
		return nil, err
	}
	if r.policy, err = password.PolicyFromOptions(o); err != nil {
		return nil, err
	}
	if r.suffix == "" || strings.ContainsAny(r.suffix, "\x00") {
		return nil, fmt.Errorf("%w: option %s: want a non-empty suffix", rotator.ErrPermanent, OptCloneSuffix)
	}
	return r, nil
}

// Capabilities: setSecret changes the password in the database, with the
// previous credential as a fallback; a revocation undoes a password change
// of an abandoned rotation (single-user) or disables the user whose
// password left AWSPREVIOUS (alternating-users).
func (r *Rotator) Capabilities() rotator.Capabilities {
	return rotator.Capabilities{NeedsPrevious: !r.alternating, Sets: true, Revokes: true, RevokeWithCurrent: !r.alternating}
}

// CredentialID names a value's credential by its user and a digest of its
// password.
func (r *Rotator) CredentialID(v secret.Value) string {
	val, err := parseValue(v)
	if err != nil || val.Username == "" {
		return ""
	}
	return CredentialID(val.Username, val.Password)
}

// CredentialID is the id of the credential user/password: the user and a
// digest of both, so that logs never carry the password.
func CredentialID(user, password string) string {
	h := sha256.Sum256([]byte("rotor-database\x00" + user + "\x00" + password))
	return user + "/" + hex.EncodeToString(h[:8])
}

// Create generates the pending value: a new password for the same user
// (single-user) or for the other of the two users (alternating-users).
func (r *Rotator) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	cur, err := parseValue(req.Current)
	if err != nil {
		return secret.Value{}, fmt.Errorf("%w: AWSCURRENT: %v", rotator.ErrPermanent, err)
	}
	if cur.Username == "" || cur.Host == "" {
		return secret.Value{}, fmt.Errorf("%w: AWSCURRENT has no \"username\" or no \"host\": the database format needs both", rotator.ErrPermanent)
	}
	user := cur.Username
	if r.alternating {
		if cur.Master == "" {
			return secret.Value{}, fmt.Errorf("%w: strategy %s needs the field \"masterarn\" in the secret, the id of the secret of a user who may create users and change their passwords", rotator.ErrPermanent, AlternatingUsers)
		}
		user = r.other(user)
	}
	pw, err := password.Generate(nil, r.policy)
	if err != nil {
		return secret.Value{}, err
	}
	return cur.with(user, pw.Text())
}

// other is the alternate of user.
func (r *Rotator) other(user string) string {
	if base, ok := strings.CutSuffix(user, r.suffix); ok && base != "" {
		return base
	}
	return user + r.suffix
}

// Set puts the pending password into the database. A retry that finds it
// already there succeeds.
func (r *Rotator) Set(ctx context.Context, req rotator.Request) error {
	pend, err := parseValue(req.Pending)
	if err != nil {
		return fmt.Errorf("%w: AWSPENDING: %v", rotator.ErrPermanent, err)
	}
	sc := r.scrubber(req)
	if r.alternating {
		// Always through the master: setting the same password again
		// changes nothing, and the clone's grants are checked each time.
		return sc.scrub(r.setAlternating(ctx, req, pend))
	}
	if s, err := r.login(ctx, pend, pend.Username, pend.Password); err == nil {
		s.close()
		req.Log().Info("the pending password is already set", "user", pend.Username)
		return nil
	}
	return sc.scrub(r.setSingle(ctx, req, pend))
}

func (r *Rotator) setSingle(ctx context.Context, req rotator.Request, pend *value) error {
	var errs []error
	for _, c := range []struct {
		label string
		v     secret.Value
	}{{"AWSCURRENT", req.Current}, {"AWSPREVIOUS", req.Previous}} {
		if c.v.IsZero() {
			continue
		}
		old, err := parseValue(c.v)
		if err != nil || old.Username != pend.Username {
			continue
		}
		s, err := r.login(ctx, pend, old.Username, old.Password)
		if err != nil {
			errs = append(errs, fmt.Errorf("log in with %s: %w", c.label, err))
			continue
		}
		defer s.close()
		if err := s.setOwnPassword(ctx, pend.Password); err != nil {
			return fmt.Errorf("change the password of %s: %w", pend.Username, err)
		}
		req.Log().Info("changed the user's own password", "user", pend.Username, "logged_in_with", c.label)
		return nil
	}
	if len(errs) == 0 {
		return fmt.Errorf("%w: neither AWSCURRENT nor AWSPREVIOUS holds the user %s", rotator.ErrPermanent, pend.Username)
	}
	return fmt.Errorf("neither the pending, the current nor the previous password of %s is accepted by the database: %w", pend.Username, errors.Join(errs...))
}

func (r *Rotator) setAlternating(ctx context.Context, req rotator.Request, pend *value) error {
	cur, err := parseValue(req.Current)
	if err != nil {
		return fmt.Errorf("%w: AWSCURRENT: %v", rotator.ErrPermanent, err)
	}
	s, err := r.master(ctx, pend)
	if err != nil {
		return err
	}
	defer s.close()
	exists, err := s.userExists(ctx, pend.Username)
	if err != nil {
		return fmt.Errorf("look up the user %s: %w", pend.Username, err)
	}
	clone := r.isClone(cur, pend)
	switch {
	case !exists && !clone:
		return fmt.Errorf("%w: the user %s does not exist (alternating-users creates only %s%s)", rotator.ErrPermanent, pend.Username, cur.Username, r.suffix)
	case !exists:
		if err := s.createClone(ctx, cur.Username, pend.Username, pend.Password); err != nil {
			return fmt.Errorf("create the user %s: %w", pend.Username, err)
		}
		req.Log().Info("created the alternate user", "user", pend.Username, "like", cur.Username)
	default:
		if err := s.setPassword(ctx, pend.Username, pend.Password); err != nil {
			return fmt.Errorf("set the password of %s: %w", pend.Username, err)
		}
		req.Log().Info("set the alternate user's password", "user", pend.Username)
	}
	// Every time, so that a setSecret that died after creating the
	// clone leaves it with every grant on the retry.
	if clone {
		if err := s.syncGrants(ctx, cur.Username, pend.Username); err != nil {
			return fmt.Errorf("give %s the privileges of %s: %w", pend.Username, cur.Username, err)
		}
	}
	return nil
}

// isClone reports whether pend is the clone of cur's user.
func (r *Rotator) isClone(cur, pend *value) bool {
	return pend.Username == cur.Username+r.suffix
}

// master logs in with the secret masterarn names.
func (r *Rotator) master(ctx context.Context, v *value) (session, error) {
	if v.Master == "" {
		return nil, fmt.Errorf("%w: strategy %s needs the field \"masterarn\" in the secret", rotator.ErrPermanent, AlternatingUsers)
	}
	if r.deps.Secrets == nil {
		return nil, fmt.Errorf("%w: no way to read the master secret here", rotator.ErrPermanent)
	}
	mv, err := r.deps.Secrets.ReadSecret(ctx, v.Master)
	if err != nil {
		return nil, fmt.Errorf("read the master secret (masterarn): %w", err)
	}
	m, err := parseValue(mv)
	if err != nil {
		return nil, fmt.Errorf("%w: the master secret: %v", rotator.ErrPermanent, err)
	}
	at := *v
	if m.Host != "" {
		at.Host, at.Port = m.Host, m.Port
	}
	if m.DBName != "" {
		at.DBName = m.DBName
	}
	s, err := r.login(ctx, &at, m.Username, m.Password)
	if err != nil {
		return nil, scrubber{secrets: []string{m.Password}}.scrub(fmt.Errorf("log in as the master user %s: %w", m.Username, err))
	}
	return s, nil
}

// Test logs in with the pending credential and runs a trivial query.
func (r *Rotator) Test(ctx context.Context, req rotator.Request) error {
	pend, err := parseValue(req.Pending)
	if err != nil {
		return fmt.Errorf("%w: AWSPENDING: %v", rotator.ErrPermanent, err)
	}
	s, err := r.login(ctx, pend, pend.Username, pend.Password)
	if err != nil {
		return r.scrubber(req).scrub(fmt.Errorf("log in as %s with the pending password: %w", pend.Username, err))
	}
	defer s.close()
	return r.scrubber(req).scrub(s.ping(ctx))
}

// Revoke makes req.Pending's password stop working, if it still does.
// single-user: the password of an abandoned rotation that setSecret had
// already set is changed back to AWSCURRENT's. alternating-users: the user
// whose password it is loses its password, until a later setSecret gives it
// a new one.
func (r *Rotator) Revoke(ctx context.Context, req rotator.Request) error {
	v, err := parseValue(req.Pending)
	if err != nil || v.Username == "" {
		return nil // nothing that could be a database credential
	}
	sc := r.scrubber(req)
	s, err := r.login(ctx, v, v.Username, v.Password)
	if errors.Is(err, errRefused) {
		return nil // revoked already
	}
	if err != nil {
		// Not proof that the password stopped working: the revocation
		// stays due and is retried.
		return sc.scrub(fmt.Errorf("log in as %s to see whether its password still works: %w", v.Username, err))
	}
	if !r.alternating {
		defer s.close()
		cur, err := parseValue(req.Current)
		if err != nil || cur.Username != v.Username || cur.Password == v.Password {
			return nil
		}
		if err := s.setOwnPassword(ctx, cur.Password); err != nil {
			return sc.scrub(fmt.Errorf("change the password of %s back to AWSCURRENT's: %w", v.Username, err))
		}
		req.Log().Info("changed the password of an abandoned rotation back to AWSCURRENT's", "user", v.Username)
		return nil
	}
	s.close()
	m, err := r.master(ctx, v)
	if err != nil {
		return sc.scrub(err)
	}
	defer m.close()
	if err := m.disable(ctx, v.Username); err != nil {
		return sc.scrub(fmt.Errorf("disable the password of %s: %w", v.Username, err))
	}
	req.Log().Info("disabled the password of the user whose credential left AWSPREVIOUS", "user", v.Username)
	return nil
}

// login connects as user to the database v describes.
func (r *Rotator) login(ctx context.Context, v *value, user, pw string) (session, error) {
	if v.Host == "" {
		return nil, fmt.Errorf("%w: the secret has no \"host\"", rotator.ErrPermanent)
	}
	c := conn{Host: v.Host, Port: v.Port, User: user, Password: pw, DBName: v.DBName}
	if c.Port == 0 {
		c.Port = r.drv.defaultPort()
	}
	if c.DBName == "" {
		c.DBName = r.drv.defaultDB()
	}
	if r.useTLS {
		t, err := r.tlsConfig(v.Host)
		if err != nil {
			return nil, err
		}
		c.TLS = t
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	s, err := r.drv.connect(ctx, c)
	if err != nil {
		return nil, scrubber{secrets: []string{pw}}.scrub(err)
	}
	return s, nil
}

func (r *Rotator) tlsConfig(host string) (*tls.Config, error) {
	if r.caFile == "" {
		// require: encrypted, the server not verified.
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // sslmode=require, documented; set ca-file to verify
	}
	pem, err := os.ReadFile(r.caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: option %s: %v", rotator.ErrPermanent, OptCAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: option %s: no PEM certificate in the file", rotator.ErrPermanent, OptCAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

// scrubber returns a scrubber of every password the request holds.
func (r *Rotator) scrubber(req rotator.Request) scrubber {
	var s scrubber
	for _, v := range []secret.Value{req.Current, req.Previous, req.Pending} {
		if val, err := parseValue(v); err == nil && val.Password != "" {
			s.secrets = append(s.secrets, val.Password)
		}
	}
	return s
}
