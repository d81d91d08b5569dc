package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// PutValue writes a new version of a secret's value outside a rotation, as
// PutSecretValue does, and keeps rotor's promises while it does:
//
//   - every version the write may take its last AWS label from (the holder
//     of each label written, and of AWSPREVIOUS when AWSCURRENT is written)
//     is marked for revocation before the write, and revoked after it if it
//     did lose its last label, as at the end of a rotation;
//     A secret of no kind (no rotor:kind tag, no default kind) is written
//     as it is: it holds no credential of rotor's to revoke;
//   - a rotation in progress is abandoned when AWSCURRENT is written (the
//     audit event RotationAbandoned: a value was written during a
//     rotation): its AWSPENDING is removed and its credential revoked, so
//     that resuming it later cannot overwrite the value written now.
//
// The error is about the write alone: once the value is stored, what could
// not be done after it (abandoning, revoking) is logged and notified as a
// partial success, and stays on record for the next rotation. A retried
// write (the token already holds a value) goes to the store unchanged.
//
// Concurrent writes of one secret run one after another (each waits, within
// ctx, for the one before it); a write fails with ErrInProgress only while a
// rotation of the secret runs.
func (e *Engine) PutValue(ctx context.Context, in store.PutSecretValueInput) (*store.VersionRef, error) {
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{store.Current}
	}
	unlock, err := e.lockWrite(ctx, in.SecretID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	desc, err := e.st.DescribeSecret(ctx, in.SecretID)
	if err != nil {
		return nil, err
	}
	if _, retried := desc.VersionIDsToStages[in.ClientRequestToken]; retried {
		return e.st.PutSecretValue(ctx, in)
	}
	if e.options(desc, nil)[rotator.OptKind] == "" {
		// A secret of no kind holds nothing rotor issued or revokes: a
		// plain write, with no version marked (marks would stay forever,
		// and keep every version they label from being pruned).
		return e.st.PutSecretValue(ctx, in)
	}
	writesCurrent := has(stages, store.Current)
	pend := desc.VersionWithStage(store.Pending)
	if pend == desc.VersionWithStage(store.Current) {
		pend = ""
	}
	displaced := map[string]bool{}
	for _, l := range stages {
		// The holder of AWSCURRENT keeps a label (it becomes AWSPREVIOUS).
		if id := desc.VersionWithStage(l); id != "" && (l == store.Previous || l == store.Pending) {
			displaced[id] = true
		}
	}
	if writesCurrent {
		if id := desc.VersionWithStage(store.Previous); id != "" {
			displaced[id] = true
		}
		if pend != "" {
			displaced[pend] = true
		}
	}
	var marked []string
	for _, id := range sortedKeys(displaced) {
		if desc.HasStage(id, store.RevokeLabelFor(id)) {
			continue
		}
		if err := e.markVersion(ctx, desc, id); err != nil {
			e.unmark(ctx, desc.ARN, marked)
			return nil, err
		}
		marked = append(marked, id)
	}
	out, err := e.st.PutSecretValue(ctx, in)
	if err != nil {
		// A refusal wrote nothing, so nothing was displaced; any other
		// error may hide a write that happened, so the marks stay (a mark
		// on a version that keeps its label is only settled later).
		switch store.CodeOf(err) {
		case store.ErrInvalidParameter, store.ErrInvalidRequest, store.ErrResourceExists, store.ErrNotFound, store.ErrLimitExceeded:
			e.unmark(ctx, desc.ARN, marked)
		}
		return nil, err
	}
	// The value is stored: from here on, problems are reported, not returned.
	var after []error
	if writesCurrent && pend != "" && !has(stages, store.Pending) {
		rm := store.UpdateSecretVersionStageInput{SecretID: desc.ARN, VersionStage: store.Pending, RemoveFromVersionID: pend}
		if _, err := e.st.UpdateSecretVersionStage(ctx, rm); err != nil {
			after = append(after, fmt.Errorf("abandon the rotation in progress (version %s); run `rotor cancel %s`: %w", pend, desc.Name, err))
		} else {
			e.log.Info("RotationAbandoned", "secret", desc.ARN, "version", pend, "reason", "a value was written during the rotation")
		}
	}
	if err := e.settleAfterWrite(ctx, desc.ARN); err != nil {
		after = append(after, err)
	}
	if err := errors.Join(after...); err != nil {
		e.log.Warn("value stored, but what follows the write did not finish; it stays on record", "secret", desc.ARN, "version", out.VersionID, "error", err)
		e.emit(ctx, Notice{Outcome: Partial, ARN: desc.ARN, Name: desc.Name, Token: out.VersionID, Err: err,
			Options: rotator.Merge(e.defaults, rotator.FromTags(desc.Tags)),
			Message: fmt.Sprintf("a new value of %s was stored as version %s, but: %v", desc.Name, out.VersionID, err),
			Action:  fmt.Sprintf("`rotor status %s` shows what is due; `rotor rotate %s` retries it", desc.Name, desc.Name)})
	}
	return out, nil
}

// markVersion puts version id's revocation label on it. It needs no
// rotator, so a revocation is on record even when the kind cannot run now.
func (e *Engine) markVersion(ctx context.Context, desc *store.Description, id string) error {
	label := store.RevokeLabelFor(id)
	if desc.HasStage(id, label) {
		return nil
	}
	in := store.UpdateSecretVersionStageInput{SecretID: desc.ARN, VersionStage: label, MoveToVersionID: id}
	if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("mark version %s for revocation: %w", id, err)
	}
	desc.VersionIDsToStages[id] = append(desc.VersionIDsToStages[id], label)
	return nil
}

// settleAfterWrite reads the secret back and revokes what is due, or clears
// the marks of a kind that revokes nothing.
func (e *Engine) settleAfterWrite(ctx context.Context, arn string) error {
	desc, err := e.st.DescribeSecret(ctx, arn)
	if err != nil {
		return fmt.Errorf("read the secret back to revoke old credentials: %w", err)
	}
	if len(desc.RevokeMarked()) == 0 {
		return nil
	}
	ref, err := e.rotatorFor(desc, nil)
	if err != nil {
		return fmt.Errorf("old credentials stay marked for revocation: %w", err)
	}
	ref.log = e.log.With("secret", desc.ARN, "kind", ref.kind)
	if !ref.caps.Revokes {
		return e.clearDue(ctx, ref)
	}
	return e.settleErr(ctx, ref)
}

// unmark takes off the revocation labels a failed write had put on ids
// (best effort: a label left behind is only settled later).
func (e *Engine) unmark(ctx context.Context, arn string, ids []string) {
	for _, id := range ids {
		in := store.UpdateSecretVersionStageInput{SecretID: arn, VersionStage: store.RevokeLabelFor(id), RemoveFromVersionID: id}
		if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
			e.log.Warn("could not take off a revocation mark after a failed write", "secret", arn, "version", id, "error", err)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCurrent runs the kind's testSecret against the secret's current value:
// what RotateSecret does with RotateImmediately=false, a dry run of the
// rotation's configuration.
func (e *Engine) TestCurrent(ctx context.Context, secretID string, opts rotator.Options) error {
	desc, err := e.st.DescribeSecret(ctx, secretID)
	if err != nil {
		return err
	}
	ref, err := e.rotatorFor(desc, opts)
	if err != nil {
		return err
	}
	ref.log = e.log.With("secret", desc.ARN, "kind", ref.kind, "step", string(StepTest))
	cur, err := e.current(ctx, ref)
	if err != nil {
		return err
	}
	req := e.request(ref, desc.VersionWithStage(store.Current))
	req.Pending = cur
	if err := ref.rot.Test(ctx, req); err != nil {
		return fmt.Errorf("testSecret of the current value of %s: %w", desc.Name, err)
	}
	return nil
}

// Retire revokes the credential of every version that still holds a label
// (AWSCURRENT, AWSPREVIOUS, AWSPENDING, or a revocation due), for a secret
// about to be deleted: deleting the secret alone would leave them valid and
// orphaned. The current credential goes last, so that a kind that signs its
// revocations with it (a user rotating their own key) can still sign. It
// returns the versions whose credentials it revoked; on an error the secret
// should not be deleted, so that retiring can be tried again.
func (e *Engine) Retire(ctx context.Context, secretID string) (revoked []string, err error) {
	ctx, unlock, err := e.lock(ctx, secretID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	defer func() { err = lockLost(ctx, err) }()
	desc, err := e.st.DescribeSecret(ctx, secretID)
	if err != nil {
		return nil, err
	}
	ref, err := e.rotatorFor(desc, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot revoke the credentials of %s: %w", desc.Name, err)
	}
	if !ref.caps.Revokes {
		return nil, nil
	}
	ref.log = e.log.With("secret", desc.ARN, "kind", ref.kind)
	cur := desc.VersionWithStage(store.Current)
	var ids []string
	for id, stages := range desc.VersionIDsToStages {
		if len(stages) > 0 && id != cur {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if cur != "" {
		ids = append(ids, cur)
	}
	for _, id := range ids {
		val, err := e.value(ctx, desc.ARN, id, "")
		if errors.Is(err, store.ErrNotFound) {
			continue // a placeholder: no credential
		}
		if err != nil {
			return revoked, fmt.Errorf("read version %s to revoke it: %w", id, err)
		}
		req := e.request(ref, id)
		req.Pending = val
		if ref.caps.RevokeWithCurrent && cur != "" {
			if req.Current, err = e.current(ctx, ref); err != nil {
				return revoked, err
			}
		}
		if err := ref.rot.Revoke(ctx, req); err != nil {
			err = fmt.Errorf("revoke the credential of version %s: %w", id, err)
			e.record(ctx, audit.Event{Type: audit.RevocationFailed, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: id, Error: err.Error()})
			return revoked, err
		}
		ref.log.Info("revoked credential", "revoked_version", id, "reason", "secret retired")
		e.record(ctx, audit.Event{Type: audit.RevocationSucceeded, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: id, Reason: "secret retired"})
		revoked = append(revoked, id)
	}
	return revoked, nil
}

// TestConfiguration is RotateSecret with RotateImmediately=false, all under
// the rotation lock: it records the rules and enables rotation (through
// BeginRotation, whose AWSPENDING placeholder it takes off again at once,
// so that no scheduler can take it for a rotation to resume), then runs the
// kind's testSecret on the current value. An unfinished rotation is left
// for the next one to resume.
func (e *Engine) TestConfiguration(ctx context.Context, secretID, token string, rules *store.RotationRules) (err error) {
	ctx, unlock, err := e.lock(ctx, secretID)
	if err != nil {
		return err
	}
	defer unlock()
	defer func() { err = lockLost(ctx, err) }()
	begun, err := e.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: secretID, Token: token, Rules: rules})
	if err != nil {
		return err
	}
	if !begun.Resumed {
		in := store.UpdateSecretVersionStageInput{SecretID: begun.ARN, VersionStage: store.Pending, RemoveFromVersionID: begun.Token}
		if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
			return fmt.Errorf("remove the AWSPENDING placeholder of the configuration test: %w", err)
		}
	}
	return e.TestCurrent(ctx, begun.ARN, nil)
}

// Check reports whether the secret can be rotated at all: it exists and its
// kind and options build a rotator. It changes nothing.
func (e *Engine) Check(ctx context.Context, secretID string, opts rotator.Options) error {
	desc, err := e.st.DescribeSecret(ctx, secretID)
	if err != nil {
		return err
	}
	_, err = e.rotatorFor(desc, opts)
	return err
}
