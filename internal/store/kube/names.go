package kube

import (
	"context"
	"errors"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rotorhq/rotor/internal/store"
)

// A secret id may name the Secret as kubectl does, namespace/name, with the
// store's own namespace: "prod/app" in namespace prod is the Secret app.
// Any other id with a "/" is a Secrets Manager path name ("app/db"), kept in
// the store's namespace under a hashed Secret name (see ObjectName). rotor
// works in one namespace at a time, the one its Role is bound in: a
// namespace/name of another namespace is not found, and the error says to
// pass --namespace.

// canon returns the secret id with the store's namespace/ prefix removed.
func (s *Store) canon(id string) string {
	rest, ok := strings.CutPrefix(id, s.b.ns+"/")
	if ok && rest != "" && ObjectName(rest) == rest {
		return rest
	}
	return id
}

// hint adds to a not-found error about id what to do when id looks like the
// namespace/name of another namespace.
func (s *Store) hint(id string, err error) error {
	var e *store.Error
	if err == nil || !errors.As(err, &e) || e.Code != store.ErrNotFound {
		return err
	}
	ns, name, ok := strings.Cut(id, "/")
	if !ok || ns == s.b.ns || len(validation.IsDNS1123Label(ns)) != 0 || ObjectName(name) != name {
		return err
	}
	return store.Errorf(store.ErrNotFound, "%s (rotor reads the Secrets of namespace %s; for the Secret %s of namespace %s, pass --namespace %s)",
		e.Message, s.b.ns, name, ns, ns)
}

// CreateSecret creates a secret; a name with the store's namespace/ prefix
// creates the Secret of the rest.
func (s *Store) CreateSecret(ctx context.Context, in store.CreateSecretInput) (*store.SecretRef, error) {
	in.Name = s.canon(in.Name)
	return s.Store.CreateSecret(ctx, in)
}

func (s *Store) DescribeSecret(ctx context.Context, id string) (*store.Description, error) {
	d, err := s.Store.DescribeSecret(ctx, s.canon(id))
	return d, s.hint(id, err)
}

func (s *Store) GetSecretValue(ctx context.Context, in store.GetSecretValueInput) (*store.SecretValue, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	v, err := s.Store.GetSecretValue(ctx, in)
	return v, s.hint(id, err)
}

func (s *Store) PutSecretValue(ctx context.Context, in store.PutSecretValueInput) (*store.VersionRef, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	v, err := s.Store.PutSecretValue(ctx, in)
	return v, s.hint(id, err)
}

func (s *Store) UpdateSecret(ctx context.Context, in store.UpdateSecretInput) (*store.VersionRef, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	v, err := s.Store.UpdateSecret(ctx, in)
	return v, s.hint(id, err)
}

func (s *Store) UpdateSecretVersionStage(ctx context.Context, in store.UpdateSecretVersionStageInput) (*store.SecretRef, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	r, err := s.Store.UpdateSecretVersionStage(ctx, in)
	return r, s.hint(id, err)
}

func (s *Store) ListSecretVersionIDs(ctx context.Context, in store.ListSecretVersionIDsInput) (*store.ListSecretVersionIDsOutput, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	out, err := s.Store.ListSecretVersionIDs(ctx, in)
	return out, s.hint(id, err)
}

func (s *Store) TagResource(ctx context.Context, id string, tags []store.Tag) error {
	return s.hint(id, s.Store.TagResource(ctx, s.canon(id), tags))
}

func (s *Store) UntagResource(ctx context.Context, id string, keys []string) error {
	return s.hint(id, s.Store.UntagResource(ctx, s.canon(id), keys))
}

func (s *Store) DeleteSecret(ctx context.Context, in store.DeleteSecretInput) (*store.DeleteSecretOutput, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	out, err := s.Store.DeleteSecret(ctx, in)
	return out, s.hint(id, err)
}

func (s *Store) RestoreSecret(ctx context.Context, id string) (*store.SecretRef, error) {
	r, err := s.Store.RestoreSecret(ctx, s.canon(id))
	return r, s.hint(id, err)
}

func (s *Store) BeginRotation(ctx context.Context, in store.BeginRotationInput) (*store.BeginRotationOutput, error) {
	id := in.SecretID
	in.SecretID = s.canon(id)
	out, err := s.Store.BeginRotation(ctx, in)
	return out, s.hint(id, err)
}

func (s *Store) CancelRotation(ctx context.Context, id string) (*store.SecretRef, error) {
	r, err := s.Store.CancelRotation(ctx, s.canon(id))
	return r, s.hint(id, err)
}

func (s *Store) MarkRotated(ctx context.Context, id string, at time.Time) error {
	return s.hint(id, s.Store.MarkRotated(ctx, s.canon(id), at))
}

func (s *Store) LockWrite(ctx context.Context, id string) (func(), error) {
	unlock, err := s.Store.LockWrite(ctx, s.canon(id))
	return unlock, s.hint(id, err)
}
