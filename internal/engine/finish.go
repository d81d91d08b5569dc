package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// finish moves AWSCURRENT to the token's version; the store moves
// AWSPREVIOUS to the version that was current. The version that held
// AWSPREVIOUS before loses its last AWS label, so its credential is revoked.
//
// Revocation is made crash-safe by the store itself: before the labels move,
// the version to revoke gets its own label store.RevokeLabelFor(id), which
// keeps it (and its value) from being pruned and tells any later step that a
// revocation is due. The label comes off only after the credential is
// revoked. A revocation that fails stays due, and never blocks a rotation:
// every finish step retries all of them.
func (e *Engine) finish(ctx context.Context, ref *secretRef, token string) error {
	arn := ref.desc.ARN
	cur := ref.desc.VersionWithStage(store.Current)
	if cur == token {
		return nil
	}
	if ref.caps.Revokes {
		if prev := ref.desc.VersionWithStage(store.Previous); prev != "" && prev != token {
			if err := e.mark(ctx, ref, prev); err != nil {
				return err
			}
		}
	}
	in := store.UpdateSecretVersionStageInput{SecretID: arn, VersionStage: store.Current, MoveToVersionID: token, RemoveFromVersionID: cur}
	if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("move AWSCURRENT to %s: %w", token, err)
	}
	ref.log.Info("moved AWSCURRENT", "from", cur)
	// Reflect the move locally rather than asking the store again; the
	// pending value is now the current one.
	ref.prev, ref.cur, ref.pending = ref.cur, ref.pending, nil
	ref.desc.VersionIDsToStages[token] = append(ref.desc.VersionIDsToStages[token], store.Current)
	if cur != "" {
		for id, st := range ref.desc.VersionIDsToStages {
			ref.desc.VersionIDsToStages[id] = without(st, store.Previous)
		}
		ref.desc.VersionIDsToStages[cur] = append(without(ref.desc.VersionIDsToStages[cur], store.Current), store.Previous)
	}
	return e.afterMove(ctx, ref)
}

// afterMove runs once AWSCURRENT sits on the new version, in the finish step
// that moved it or in any later finish step for the same token: it revokes
// every credential that is due (the one that left AWSPREVIOUS, and any
// earlier one whose revocation failed) and, with the option
// revoke-at-finish, takes AWSPREVIOUS off the old current version and
// revokes its credential too.
func (e *Engine) afterMove(ctx context.Context, ref *secretRef) error {
	if ref.caps.Revokes {
		e.settle(ctx, ref)
	} else if err := e.clearDue(ctx, ref); err != nil {
		ref.log.Warn("could not clear a revocation mark; the next rotation retries", "error", err)
	}
	atFinish, err := ref.opts.Bool(rotator.OptRevokeAtFinish, false)
	if err != nil || !atFinish {
		return err
	}
	prev := ref.desc.VersionWithStage(store.Previous)
	if prev == "" {
		return nil
	}
	if ref.caps.Revokes {
		if err := e.mark(ctx, ref, prev); err != nil {
			return err
		}
	}
	in := store.UpdateSecretVersionStageInput{SecretID: ref.desc.ARN, VersionStage: store.Previous, RemoveFromVersionID: prev}
	if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("remove AWSPREVIOUS from %s (revoke-at-finish): %w", prev, err)
	}
	ref.desc.VersionIDsToStages[prev] = without(ref.desc.VersionIDsToStages[prev], store.Previous)
	if ref.caps.Revokes {
		e.settle(ctx, ref)
	}
	return nil
}

// mark puts version id's revocation label on it.
func (e *Engine) mark(ctx context.Context, ref *secretRef, id string) error {
	return e.markVersion(ctx, ref.desc, id)
}

// settle revokes the credentials of the versions marked for revocation that
// hold none of the AWS labels. A failure is logged and reported as a partial
// success: the new credential is live, and the mark stays so that the next
// step or rotation tries again.
func (e *Engine) settle(ctx context.Context, ref *secretRef) {
	if err := e.settleErr(ctx, ref); err != nil {
		ref.log.Warn("revocation of an old credential failed; the next rotation retries it", "error", err)
		e.emit(ctx, Notice{Outcome: Partial, ARN: ref.desc.ARN, Name: ref.desc.Name, Kind: ref.kind, Step: StepFinish,
			Message: "the new credential is live, but revoking an old one failed: " + err.Error(),
			Action:  fmt.Sprintf("fix the cause, then run `rotor rotate %s` (it retries the revocation; `rotor status %s` shows what is due); the old credential stays valid until then", ref.desc.Name, ref.desc.Name),
			Err:     err, Options: ref.opts})
	}
}

// settleErr revokes every due credential, going on past failures, and
// returns them joined.
func (e *Engine) settleErr(ctx context.Context, ref *secretRef) error {
	var errs []error
	for _, id := range ref.desc.RevokeMarked() {
		if err := e.revoke(ctx, ref, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// revoke revokes the credential of version id, if it is due, and takes its
// revocation labels off.
func (e *Engine) revoke(ctx context.Context, ref *secretRef, id string) error {
	stages := ref.desc.VersionIDsToStages[id]
	if awsLabeled(stages) {
		return nil // not due yet: the version still serves readers
	}
	var label string
	for _, s := range stages {
		if store.IsRevokeLabel(s) {
			label = s
			break
		}
	}
	val, err := e.value(ctx, ref.desc.ARN, id, label)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A placeholder that never got a value has no credential.
	case err != nil:
		return fmt.Errorf("read version %s to revoke: %w", id, err)
	default:
		if holder, err := e.sharedBy(ctx, ref, id, val); err != nil {
			return fmt.Errorf("check whether another version holds the credential of %s: %w", id, err)
		} else if holder != "" {
			// The same credential serves another version still (a value put
			// back, or put twice): it is not revoked while that one serves.
			ref.log.Info("credential not revoked: another version still holds it", "version", id, "holder", holder)
			break
		}
		req := e.request(ref, id)
		req.Pending = val
		if ref.caps.RevokeWithCurrent {
			if req.Current, err = e.current(ctx, ref); err != nil {
				return fmt.Errorf("revoke version %s: %w", id, err)
			}
		}
		if err := ref.rot.Revoke(ctx, req); err != nil {
			err = fmt.Errorf("revoke credential of version %s: %w", id, err)
			e.record(ctx, audit.Event{Type: audit.RevocationFailed, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: id, Error: err.Error()})
			return err
		}
		ref.log.Info("revoked credential", "revoked_version", id)
		e.record(ctx, audit.Event{Type: audit.RevocationSucceeded, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: id})
	}
	for _, s := range stages {
		if !store.IsRevokeLabel(s) {
			continue
		}
		in := store.UpdateSecretVersionStageInput{SecretID: ref.desc.ARN, VersionStage: s, RemoveFromVersionID: id}
		if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
			return fmt.Errorf("clear revocation mark of %s: %w", id, err)
		}
		ref.desc.VersionIDsToStages[id] = without(ref.desc.VersionIDsToStages[id], s)
	}
	ref.revoked = append(ref.revoked, id)
	return nil
}

// sharedBy returns a version other than id that holds an AWS label and the
// same value val, or "".
func (e *Engine) sharedBy(ctx context.Context, ref *secretRef, id string, val secret.Value) (string, error) {
	for v, stages := range ref.desc.VersionIDsToStages {
		if v == id || !awsLabeled(stages) {
			continue
		}
		var other *secret.Value
		switch {
		case has(stages, store.Current) && ref.cur != nil:
			other = ref.cur
		case has(stages, store.Previous) && ref.prev != nil:
			other = ref.prev
		case has(stages, store.Pending) && !has(stages, store.Current) && ref.pending != nil:
			other = ref.pending
		default:
			got, err := e.value(ctx, ref.desc.ARN, v, "")
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return "", err
			}
			other = &got
		}
		if other.Equal(val) || sameCredential(ref.rot, *other, val) {
			return v, nil
		}
	}
	return "", nil
}

// sameCredential reports whether the kind knows a and b to hold the same
// credential (for kinds whose values carry more than the credential).
func sameCredential(r rotator.Rotator, a, b secret.Value) bool {
	id, ok := r.(rotator.Identifier)
	if !ok {
		return false
	}
	ia := id.CredentialID(a)
	return ia != "" && ia == id.CredentialID(b)
}

func without(stages []string, label string) []string {
	out := stages[:0:0]
	for _, s := range stages {
		if s != label {
			out = append(out, s)
		}
	}
	return out
}

// record gives ev to the audit sink, stamped with the schema and the time.
func (e *Engine) record(ctx context.Context, ev audit.Event) {
	if e.auditTo == nil {
		return
	}
	ev.Schema = audit.SchemaVersion
	if ev.Time.IsZero() {
		ev.Time = e.now().UTC()
	}
	if ev.ARN == "" {
		ev.ARN = ev.Secret
	}
	e.auditTo(detached(ctx), ev)
}

func (e *Engine) emit(ctx context.Context, n Notice) {
	if e.notify != nil {
		e.notify(detached(ctx), n)
	}
}
