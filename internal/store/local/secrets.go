package local

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// The recovery window of DeleteSecret, in days.
const (
	minRecoveryDays     = 7
	maxRecoveryDays     = 30
	defaultRecoveryDays = 30
)

// CreateSecret creates a secret, with a first version holding AWSCURRENT
// when a value is given.
func (s *Store) CreateSecret(ctx context.Context, in store.CreateSecretInput) (*store.SecretRef, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	if err := validDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var tok string
	if in.Value != nil {
		if err := validValue(*in.Value); err != nil {
			return nil, err
		}
		if tok, err = s.tokenOr(in.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	var out *store.SecretRef
	err = s.run(ctx, in.Name, func(tx *txn) error {
		if old := tx.db.named(in.Name); old != nil {
			switch {
			case old.expired(tx.now):
				tx.remove(old)
			case old.scheduled():
				return store.Errorf(store.ErrInvalidRequest,
					"You can't create this secret because a secret with this name is already scheduled for deletion. Restore it, or delete it with ForceDeleteWithoutRecovery first.")
			default:
				return store.Errorf(store.ErrResourceExists, "The operation failed because the secret %s already exists.", in.Name)
			}
		}
		if tx.db.err != nil {
			return tx.db.err
		}
		arn, err := s.arn(tx.db, in.Name)
		if err != nil {
			return err
		}
		tx.db.seq++
		r := &record{ARN: arn, Name: in.Name, Seq: tx.db.seq, Description: in.Description, KmsKeyID: in.KmsKeyID,
			Tags: tags, Created: tx.now, Changed: tx.now}
		if in.Value != nil {
			v := &version{ID: tok, Stages: []string{store.Current}, Created: tx.now}
			v.setValue(*in.Value)
			r.Versions = []*version{v}
		}
		tx.add(r)
		out = &store.SecretRef{ARN: arn, Name: in.Name, VersionID: tok}
		return nil
	})
	return out, err
}

// DescribeSecret returns a secret's metadata, also while it is marked for deletion.
func (s *Store) DescribeSecret(ctx context.Context, secretID string) (*store.Description, error) {
	var out store.Description
	err := s.view(ctx, secretID, func(tx *txn) error {
		r, err := tx.find(secretID)
		if err != nil {
			return err
		}
		out = r.describe()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateSecret changes the description or KMS key id, and writes a new
// AWSCURRENT version when a value is given.
func (s *Store) UpdateSecret(ctx context.Context, in store.UpdateSecretInput) (*store.VersionRef, error) {
	if in.Description != nil {
		if err := validDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	var tok string
	if in.Value != nil {
		if err := validValue(*in.Value); err != nil {
			return nil, err
		}
		var err error
		if tok, err = s.tokenOr(in.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	var out *store.VersionRef
	err := s.run(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.findActive(in.SecretID)
		if err != nil {
			return err
		}
		out = &store.VersionRef{ARN: r.ARN, Name: r.Name}
		if in.Value != nil {
			if _, err := putVersion(tx, r, tok, *in.Value, nil); err != nil {
				return err
			}
			out.VersionID = tok
		}
		if in.Description == nil && in.KmsKeyID == nil {
			return nil
		}
		r = tx.edit(r)
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.KmsKeyID != nil {
			r.KmsKeyID = *in.KmsKeyID
		}
		r.Changed = tx.now
		return nil
	})
	return out, err
}

// TagResource adds tags, replacing the values of keys already set.
func (s *Store) TagResource(ctx context.Context, secretID string, tags []store.Tag) error {
	if err := validTags(tags); err != nil {
		return err
	}
	return s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.findActive(secretID)
		if err != nil {
			return err
		}
		r = tx.edit(r)
		if r.Tags, err = mergeTags(r.Tags, tags); err != nil {
			return err
		}
		r.Changed = tx.now
		return nil
	})
}

// UntagResource removes the tags with the given keys; absent keys are ignored.
func (s *Store) UntagResource(ctx context.Context, secretID string, keys []string) error {
	return s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.findActive(secretID)
		if err != nil {
			return err
		}
		r = tx.edit(r)
		r.Tags = slices.DeleteFunc(r.Tags, func(t store.Tag) bool { return slices.Contains(keys, t.Key) })
		r.Changed = tx.now
		return nil
	})
}

// DeleteSecret marks a secret for deletion after a recovery window, or
// deletes it at once with ForceDeleteWithoutRecovery. Like Secrets Manager,
// a forced deletion of a secret that does not exist succeeds.
func (s *Store) DeleteSecret(ctx context.Context, in store.DeleteSecretInput) (*store.DeleteSecretOutput, error) {
	days := in.RecoveryWindowInDays
	switch {
	case days != 0 && in.ForceDeleteWithoutRecovery:
		return nil, invalid("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	case days == 0:
		days = defaultRecoveryDays
	case days < minRecoveryDays || days > maxRecoveryDays:
		return nil, invalid("The RecoveryWindowInDays value must be between %d and %d days (inclusive); got %d.", minRecoveryDays, maxRecoveryDays, days)
	}
	var out *store.DeleteSecretOutput
	err := s.run(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.find(in.SecretID)
		if err != nil {
			if !in.ForceDeleteWithoutRecovery {
				return err
			}
			out = &store.DeleteSecretOutput{Name: in.SecretID, DeletionDate: tx.now}
			if strings.HasPrefix(in.SecretID, "arn:") {
				out = &store.DeleteSecretOutput{ARN: in.SecretID, DeletionDate: tx.now}
			}
			return nil
		}
		if in.ForceDeleteWithoutRecovery {
			tx.remove(r)
			out = &store.DeleteSecretOutput{ARN: r.ARN, Name: r.Name, DeletionDate: tx.now}
			return nil
		}
		if r.scheduled() {
			return store.Errorf(store.ErrInvalidRequest,
				"You can't delete the secret because it was already marked for deletion (on %s). Restore it first, or use ForceDeleteWithoutRecovery.",
				r.Deleted.UTC().Format(time.RFC3339))
		}
		r = tx.edit(r)
		r.Deleted = tx.now
		r.DeletionDate = tx.now.Add(time.Duration(days) * 24 * time.Hour)
		r.Changed = tx.now
		out = &store.DeleteSecretOutput{ARN: r.ARN, Name: r.Name, DeletionDate: r.DeletionDate}
		return nil
	})
	return out, err
}

// RestoreSecret cancels a scheduled deletion. Restoring a secret that is not
// marked for deletion does nothing.
func (s *Store) RestoreSecret(ctx context.Context, secretID string) (*store.SecretRef, error) {
	var out *store.SecretRef
	err := s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.find(secretID)
		if err != nil {
			return err
		}
		out = r.ref()
		if !r.scheduled() {
			return nil
		}
		r = tx.edit(r)
		r.Deleted, r.DeletionDate, r.Changed = time.Time{}, time.Time{}, tx.now
		return nil
	})
	return out, err
}
