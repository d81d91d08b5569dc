package local

import (
	"context"
	"encoding/base64"
	"slices"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// GetSecretValue reads one version's value: by id, by label, or both.
func (s *Store) GetSecretValue(ctx context.Context, in store.GetSecretValueInput) (*store.SecretValue, error) {
	var out *store.SecretValue
	err := s.view(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.findActive(in.SecretID)
		if err != nil {
			return err
		}
		v, err := selectVersion(r, in.VersionID, in.VersionStage)
		if err != nil {
			return err
		}
		// Secrets Manager keeps the date (not the time) of the last
		// access; recording it never makes the read wait for a write.
		val, err := tx.value(r, v)
		if err != nil {
			return err
		}
		tx.noteAccess(r, v, tx.now.UTC().Truncate(24*time.Hour))
		out = &store.SecretValue{ARN: r.ARN, Name: r.Name, VersionID: v.ID,
			VersionStages: slices.Clone(v.Stages), Value: val, CreatedDate: v.Created}
		return nil
	})
	return out, err
}

func selectVersion(r *record, id, stage string) (*version, error) {
	if id == "" && stage == "" {
		stage = store.Current
	}
	var v *version
	if id != "" {
		if v = r.version(id); v == nil {
			return nil, store.Errorf(store.ErrNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", id)
		}
		if stage != "" && !v.has(stage) {
			return nil, store.Errorf(store.ErrInvalidRequest,
				"You provided a VersionStage that is not associated to the provided VersionId (%s does not hold %s).", id, stage)
		}
	} else if v = r.holder(stage); v == nil {
		return nil, store.Errorf(store.ErrNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	if !v.HasValue {
		return nil, store.Errorf(store.ErrNotFound,
			"Secrets Manager can't find the specified secret value for VersionId: %s (the version holds no value yet: a rotation created it and has not stored one)", v.ID)
	}
	return v, nil
}

// PutSecretValue writes a new version, or fills the rotation placeholder of
// the same id.
func (s *Store) PutSecretValue(ctx context.Context, in store.PutSecretValueInput) (*store.VersionRef, error) {
	if err := validValue(in.Value); err != nil {
		return nil, err
	}
	if err := validLabels(in.VersionStages); err != nil {
		return nil, err
	}
	tok, err := s.tokenOr(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	var out *store.VersionRef
	err = s.run(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.findActive(in.SecretID)
		if err != nil {
			return err
		}
		v, err := putVersion(tx, r, tok, in.Value, in.VersionStages)
		if err != nil {
			return err
		}
		out = &store.VersionRef{ARN: r.ARN, Name: r.Name, VersionID: v.ID, VersionStages: slices.Clone(v.Stages)}
		return nil
	})
	return out, err
}

// putVersion stores val as version tok of r with the given labels
// (AWSCURRENT when none). The same token with the same value is a no-op;
// with another value it is ErrResourceExists. It returns the version.
func putVersion(tx *txn, r *record, tok string, val secret.Value, labels []string) (*version, error) {
	if v := r.version(tok); v != nil && v.HasValue {
		have, err := tx.value(r, v)
		if err != nil {
			return nil, err
		}
		if have.Equal(val) {
			return v, nil
		}
		return nil, store.Errorf(store.ErrResourceExists,
			"You can't modify an existing version, you can only create a new version: version %s already holds another value. Use a new ClientRequestToken.", tok)
	}
	if len(labels) == 0 {
		labels = []string{store.Current}
	}
	r = tx.edit(r)
	v := r.version(tok)
	if v == nil {
		v = &version{ID: tok, Created: tx.now}
		r.Versions = append(r.Versions, v)
	}
	if n := len(v.Stages) + len(labels); n > maxLabels {
		return nil, store.Errorf(store.ErrLimitExceeded, "a version can hold at most %d staging labels", maxLabels)
	}
	v.setValue(val)
	keepPrevious := slices.Contains(labels, store.Previous)
	for _, l := range labels {
		r.attach(v, l, keepPrevious)
	}
	if r.holder(store.Current) == nil {
		// The first version with a value becomes current, whatever its labels.
		r.attach(v, store.Current, false)
	}
	r.prune()
	r.Changed = tx.now
	return v, nil
}

// UpdateSecretVersionStage moves a label to a version, removes it from one,
// or both. A label attached to another version moves only when
// RemoveFromVersionID names that version. Moving AWSCURRENT moves
// AWSPREVIOUS to the version it left.
func (s *Store) UpdateSecretVersionStage(ctx context.Context, in store.UpdateSecretVersionStageInput) (*store.SecretRef, error) {
	label := in.VersionStage
	if err := validLabel(label); err != nil {
		return nil, err
	}
	if in.MoveToVersionID == "" && in.RemoveFromVersionID == "" {
		return nil, invalid("UpdateSecretVersionStage needs MoveToVersionId, RemoveFromVersionId or both")
	}
	var out *store.SecretRef
	err := s.run(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.findActive(in.SecretID)
		if err != nil {
			return err
		}
		out = r.ref()
		holder := r.holder(label)
		var from, to *version
		if in.RemoveFromVersionID != "" {
			if from = r.version(in.RemoveFromVersionID); from == nil {
				return invalid("Not a valid version: %s", in.RemoveFromVersionID)
			}
			if from != holder {
				return invalid("The staging label %s is not attached to version %s: RemoveFromVersionId must name the version that currently has the staging label %s.",
					label, from.ID, label)
			}
		}
		if in.MoveToVersionID != "" {
			if to = r.version(in.MoveToVersionID); to == nil {
				return invalid("Not a valid version: %s", in.MoveToVersionID)
			}
			if holder != nil && holder != to && from == nil {
				return invalid("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.",
					label, holder.ID)
			}
		}
		switch {
		case to == nil && label == store.Current:
			return invalid("You can only move staging label %s to a different secret version. It can't be completely removed.", store.Current)
		case to == nil:
			r = tx.edit(r)
			r.version(from.ID).removeStage(label)
		case to == holder:
			return nil // already there
		default:
			if len(to.Stages) >= maxLabels {
				return store.Errorf(store.ErrLimitExceeded, "version %s already holds %d staging labels, the most a version can hold", to.ID, maxLabels)
			}
			r = tx.edit(r)
			r.attach(r.version(to.ID), label, false)
		}
		r.Changed = tx.now
		return nil
	})
	return out, err
}

// ListSecretVersionIDs lists versions, newest first; versions without a
// label only with IncludeDeprecated. NextToken is the id of the last version
// of the previous page.
func (s *Store) ListSecretVersionIDs(ctx context.Context, in store.ListSecretVersionIDsInput) (*store.ListSecretVersionIDsOutput, error) {
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(b) == 0 {
			return nil, invalid("NextToken is not valid; pass the one a previous call returned")
		}
		after = string(b)
	}
	var out *store.ListSecretVersionIDsOutput
	err = s.view(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.find(in.SecretID)
		if err != nil {
			return err
		}
		out = &store.ListSecretVersionIDsOutput{ARN: r.ARN, Name: r.Name}
		i := len(r.Versions) - 1
		if after != "" {
			j := slices.IndexFunc(r.Versions, func(v *version) bool { return v.ID == after })
			if j < 0 {
				return invalid("NextToken is no longer valid: its version was removed; list again from the start")
			}
			i = j - 1
		}
		for ; i >= 0; i-- {
			v := r.Versions[i]
			if len(v.Stages) == 0 && !in.IncludeDeprecated {
				continue
			}
			if len(out.Versions) == size {
				out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.Versions[size-1].VersionID))
				break
			}
			out.Versions = append(out.Versions, v.info())
		}
		return nil
	})
	return out, err
}
