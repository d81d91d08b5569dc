package local

import (
	"context"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// BeginRotation enables rotation, stores the rules and lambda ARN when given
// and creates the AWSPENDING placeholder version Token, without a value. When
// AWSPENDING already sits on a version other than AWSCURRENT it creates
// nothing and returns that version with Resumed set.
//
// A secret that was never rotated gets its NextRotationDate from now when
// rotation is enabled or its rules change, so that a schedule set up without
// an immediate rotation (RotateImmediately=false) still comes due.
func (s *Store) BeginRotation(ctx context.Context, in store.BeginRotationInput) (*store.BeginRotationOutput, error) {
	if in.Rules != nil {
		if _, err := parseRules(*in.Rules); err != nil {
			return nil, err
		}
	}
	if len(in.RotationLambdaARN) > maxLambdaARNLen {
		return nil, invalid("RotationLambdaARN must have at most %d characters", maxLambdaARNLen)
	}
	tok, err := s.tokenOr(in.Token)
	if err != nil {
		return nil, err
	}
	var out *store.BeginRotationOutput
	err = s.run(ctx, in.SecretID, func(tx *txn) error {
		r, err := tx.findActive(in.SecretID)
		if err != nil {
			return err
		}
		pending := r.holder(store.Pending)
		resumed := pending != nil && !pending.has(store.Current)
		if !resumed && r.version(tok) != nil {
			return store.Errorf(store.ErrResourceExists,
				"version %s of %s already exists; start a rotation with a new token", tok, r.Name)
		}
		r = tx.edit(r)
		rescheduled := !r.RotationEnabled || (in.Rules != nil && *in.Rules != r.Rules)
		r.RotationEnabled = true
		if in.RotationLambdaARN != "" {
			r.RotationLambdaARN = in.RotationLambdaARN
		}
		if in.Rules != nil {
			r.Rules = *in.Rules
		}
		r.Changed = tx.now
		if rescheduled && r.Rotated.IsZero() {
			r.NextRotation = time.Time{} // computed anew from now
		}
		r.refreshNextRotation(tx.now)
		out = &store.BeginRotationOutput{ARN: r.ARN, Name: r.Name, Token: tok}
		if resumed {
			out.Token, out.Resumed = pending.ID, true
			return nil
		}
		v := &version{ID: tok, Created: tx.now}
		r.Versions = append(r.Versions, v)
		r.attach(v, store.Pending, false)
		r.prune()
		return nil
	})
	return out, err
}

// CancelRotation disables rotation and removes AWSPENDING from the version
// that holds it. The returned VersionID is that version's, if any.
func (s *Store) CancelRotation(ctx context.Context, secretID string) (*store.SecretRef, error) {
	var out *store.SecretRef
	err := s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.findActive(secretID)
		if err != nil {
			return err
		}
		r = tx.edit(r)
		out = r.ref()
		if p := r.holder(store.Pending); p != nil {
			p.removeStage(store.Pending)
			out.VersionID = p.ID
		}
		r.RotationEnabled = false
		r.Changed = tx.now
		r.refreshNextRotation(tx.now)
		return nil
	})
	return out, err
}

// MarkRotated records a successful rotation at the given time and computes
// the next one from the rotation rules.
func (s *Store) MarkRotated(ctx context.Context, secretID string, at time.Time) error {
	return s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.findActive(secretID)
		if err != nil {
			return err
		}
		r = tx.edit(r)
		r.Rotated = at
		r.Changed = tx.now
		r.refreshNextRotation(tx.now)
		return nil
	})
}

// refreshNextRotation sets NextRotation from the rules: the start of the
// window after the last rotation. Before the first rotation it is the window
// after now, computed once, when NextRotation is unset; zero when rotation is
// off or has no rules.
func (r *record) refreshNextRotation(now time.Time) {
	if !r.RotationEnabled || r.Rules.IsZero() {
		r.NextRotation = time.Time{}
		return
	}
	sched, err := parseRules(r.Rules)
	if err != nil {
		r.NextRotation = time.Time{}
		return // rules are validated when stored
	}
	switch {
	case !r.Rotated.IsZero():
		r.NextRotation = sched.Next(r.Rotated)
	case r.NextRotation.IsZero():
		r.NextRotation = sched.Next(now)
	}
}
