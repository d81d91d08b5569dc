// Package rotator defines what a credential kind implements to be rotated by
// the engine, and the registry that maps kind names to constructors.
//
// A Rotator knows one kind of credential (a random password, a JFrog token, an
// IAM access key). It never touches the secret store: the engine reads and
// writes versions and labels, and hands the Rotator the values it needs. Every
// method must be idempotent, because Secrets Manager may invoke any step more
// than once and a process may die between any two calls.
package rotator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/rotorhq/rotor/internal/secret"
)

// Rotator rotates one kind of credential.
type Rotator interface {
	// Create makes a new credential and returns the whole secret value to
	// store as the pending version (a kind that owns one field of a JSON
	// secret copies the other fields from req.Current).
	//
	// Create may run again for the same req.Token after a crash that
	// happened after the credential was made but before it was stored. A
	// kind that creates credentials in another system must then adopt or
	// remove what the earlier attempt made (it can tell by req.Token, or by
	// what req.Current and req.Previous hold), never leave it orphaned.
	Create(ctx context.Context, req Request) (secret.Value, error)

	// Set applies req.Pending to the system that uses it (a database
	// password change). Kinds whose credentials the issuing service creates
	// itself do nothing.
	Set(ctx context.Context, req Request) error

	// Test proves req.Pending works with a real authenticated call.
	Test(ctx context.Context, req Request) error

	// Revoke makes the credential in req.Pending invalid. A credential that
	// is already gone counts as revoked. The engine calls it only for a
	// version that holds none of AWSCURRENT, AWSPREVIOUS and AWSPENDING.
	Revoke(ctx context.Context, req Request) error
}

// Request is what the engine hands a Rotator. Values are those of the
// versions that held the labels when the step started; any may be zero (a
// first rotation has no Previous; Create has no Pending).
type Request struct {
	SecretID string // the secret's ARN
	Name     string // the secret's name
	Token    string // the rotation token: the pending version's id
	Current  secret.Value
	Previous secret.Value
	Pending  secret.Value
	Options  Options
	Logger   *slog.Logger
}

// Log returns req.Logger, or a logger that discards everything.
func (r Request) Log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ErrPermanent marks an error that retrying will not fix (bad configuration,
// refused permission). Wrap it so callers can stop retrying.
var ErrPermanent = errors.New("permanent failure")

// Factory builds a Rotator for one secret from its options. It must not make
// network calls; problems with the options are reported as errors that say
// which option to change.
type Factory func(opts Options) (Rotator, error)

// Kind describes a registered credential kind.
type Kind struct {
	Name    string
	Summary string
	// Options documents the options the kind reads: name -> description.
	Options map[string]string
	New     Factory
	// Permissions says what the rotation function's role must be allowed
	// to call for this kind (rotor policy); nil means nothing beyond the
	// Secrets Manager calls every rotation makes.
	Permissions Permissions
	// After: a pass over many secrets (rotate --due, the server's
	// scheduler) rotates secrets of this kind after all the others,
	// because they read other secrets' values (ecr's key-secret, which
	// rotor may rotate in the same pass).
	After bool
}

// Registry maps kind names to kinds. It is a value built in main and passed
// down, so tests can build their own.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns a registry holding kinds.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: map[string]Kind{}}
	for _, k := range kinds {
		r.Register(k)
	}
	return r
}

// Register adds a kind; it panics on a duplicate name, a programming error.
func (r *Registry) Register(k Kind) {
	if _, dup := r.kinds[k.Name]; dup {
		panic(fmt.Sprintf("rotator: kind %q registered twice", k.Name))
	}
	r.kinds[k.Name] = k
}

// Lookup returns the kind called name.
func (r *Registry) Lookup(name string) (Kind, error) {
	k, ok := r.kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("unknown kind %q (known kinds: %v); set the tag %s to one of them", name, r.Names(), TagKind)
	}
	return k, nil
}

// Names lists the registered kinds, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the Rotator of kind name with opts.
func (r *Registry) New(name string, opts Options) (Rotator, error) {
	k, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	rot, err := k.New(opts)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", name, err)
	}
	return rot, nil
}
