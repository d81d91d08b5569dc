package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// ErrInProgress is returned when another process is rotating the secret.
var ErrInProgress = errors.New("rotation in progress")

// lock takes the secret's rotation lock when the store can lock rotations;
// otherwise it grants a lock that excludes nothing. The context it returns
// is ctx, or, when the store's lock is a lease (store.LeaseLocker), one that
// also ends, with the cause store.ErrLockLost, if the lock is lost while
// held: the work under it stops, and the next rotation resumes it.
func (e *Engine) lock(ctx context.Context, secretID string) (held context.Context, unlock func(), err error) {
	held = ctx
	switch l := e.st.(type) {
	case store.LeaseLocker:
		held, unlock, err = l.LockRotationLease(ctx, secretID)
	case store.RotationLocker:
		unlock, err = l.LockRotation(ctx, secretID)
	default:
		return ctx, func() {}, nil
	}
	if errors.Is(err, store.ErrRotationInProgress) {
		return nil, nil, fmt.Errorf("%w: %w", ErrInProgress, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s for rotation: %w", secretID, err)
	}
	return held, unlock, nil
}

// detached is ctx for the audit events and notices of work under a lock:
// when the lock was lost, they are still sent.
func detached(ctx context.Context) context.Context {
	if errors.Is(context.Cause(ctx), store.ErrLockLost) {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// lockLost adds to err that the lock was lost, when it was, so that the
// error says why the work stopped. Each function that works under a lock
// defers it; failed also applies it, for the failure's audit event and
// notice.
func lockLost(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, store.ErrLockLost) && !errors.Is(err, store.ErrLockLost) {
		return fmt.Errorf("%w (%w)", err, cause)
	}
	return err
}

// lockWrite takes the secret's rotation lock for a write that is not a
// rotation: when the store can, it waits (within ctx) for other such writes
// instead of failing, and fails only when a rotation holds the lock.
func (e *Engine) lockWrite(ctx context.Context, secretID string) (unlock func(), err error) {
	l, ok := e.st.(store.WriteLocker)
	if !ok {
		_, unlock, err = e.lock(ctx, secretID)
		return unlock, err
	}
	unlock, err = l.LockWrite(ctx, secretID)
	if errors.Is(err, store.ErrRotationInProgress) {
		return nil, fmt.Errorf("%w: %w", ErrInProgress, err)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s for writing: %w", secretID, err)
	}
	return unlock, nil
}

// Rotate runs a whole rotation the way RotateSecret does: it records the
// rules, creates the AWSPENDING placeholder (or resumes the incomplete
// rotation that holds AWSPENDING, under its own token), runs the four steps,
// then removes AWSPENDING and records the rotation date.
//
// A failure at any point leaves a state from which the next call finishes the
// job. When the store can lock rotations, a second concurrent Rotate of the
// same secret fails at once with ErrInProgress.
func (e *Engine) Rotate(ctx context.Context, in RotateInput) (res *Result, err error) {
	start := e.now()
	ctx, unlock, err := e.lock(ctx, in.SecretID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	defer func() { err = lockLost(ctx, err) }()
	desc, err := e.st.DescribeSecret(ctx, in.SecretID)
	if err != nil {
		return nil, err
	}
	log := e.log.With("secret", desc.ARN)
	cur, pend := desc.VersionWithStage(store.Current), desc.VersionWithStage(store.Pending)

	res = &Result{ARN: desc.ARN, Name: desc.Name}
	opts := rotator.Merge(e.defaults, rotator.FromTags(desc.Tags), in.Options)
	kind := opts[rotator.OptKind]
	if in.Rules != nil {
		desc.RotationRules = *in.Rules
	}
	remote := false
	if r, ok := e.st.(store.RemoteRotator); ok {
		remote = r.RotatesRemotely()
	}
	// Build the rotator before touching the store, so that a secret with a
	// missing kind or a bad option fails with nothing left behind.
	var ref *secretRef
	if !remote {
		if ref, err = e.rotatorFor(desc, in.Options); err != nil {
			log.Error("RotationFailed", "error", err)
			e.record(ctx, audit.Event{Type: audit.RotationFailed, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Error: err.Error()})
			e.emit(ctx, Notice{Outcome: Failed, ARN: desc.ARN, Name: desc.Name, Kind: kind, Err: err, Options: opts,
				Message: fmt.Sprintf("rotation of %s did not start: %v", desc.Name, err),
				Action:  "fix the secret's rotor:* tags or the ROTOR_* settings, then run `rotor rotate " + desc.Name + "` again"})
			return nil, fmt.Errorf("rotate %s: %w", desc.Name, err)
		}
	}
	var token string
	if pend != "" && pend != cur && desc.HasStage(pend, store.RevokeLabelFor(pend)) {
		// A pending version marked for revocation was abandoned (a value
		// was written during its rotation, or it was cancelled) but kept
		// its label: never resume it, finish abandoning it.
		rm := store.UpdateSecretVersionStageInput{SecretID: desc.ARN, VersionStage: store.Pending, RemoveFromVersionID: pend}
		if _, err := e.st.UpdateSecretVersionStage(ctx, rm); err != nil {
			return nil, fmt.Errorf("start rotation of %s: remove AWSPENDING from the abandoned version %s: %w", desc.Name, pend, err)
		}
		desc.VersionIDsToStages[pend] = without(desc.VersionIDsToStages[pend], store.Pending)
		log.Info("RotationAbandoned", "version", pend, "reason", "marked for revocation")
		e.record(ctx, audit.Event{Type: audit.RotationAbandoned, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Version: pend, Reason: "marked for revocation"})
		pend = ""
	}
	if pend != "" && pend == cur {
		// AWSPENDING sits on AWSCURRENT: a rotation moved the label but its
		// bookkeeping did not finish. If its date was recorded, or new rules
		// are asked for, or the service rotates, clear the label and start a
		// fresh rotation (as Secrets Manager does); otherwise finish that
		// rotation's bookkeeping, the rotation it was.
		fresh := remote || in.Rules != nil
		if !fresh {
			v, err := e.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: desc.ARN, VersionID: pend, VersionStage: store.Current})
			if err != nil {
				return nil, fmt.Errorf("start rotation of %s: %w", desc.Name, err)
			}
			// Strictly after: Secrets Manager's dates have millisecond
			// precision, so the previous rotation's date can equal the
			// creation of this rotation's version, which must then be
			// finished, not rotated again (that would cut AWSPREVIOUS's
			// grace period short).
			fresh = desc.LastRotatedDate.After(v.CreatedDate)
		}
		if fresh {
			rm := store.UpdateSecretVersionStageInput{SecretID: desc.ARN, VersionStage: store.Pending, RemoveFromVersionID: pend}
			if _, err := e.st.UpdateSecretVersionStage(ctx, rm); err != nil {
				return nil, fmt.Errorf("start rotation of %s: remove the AWSPENDING label a finished rotation left: %w", desc.Name, err)
			}
			desc.VersionIDsToStages[pend] = without(desc.VersionIDsToStages[pend], store.Pending)
			pend = ""
		}
	}
	switch {
	case pend != "" && pend == cur:
		// The steps all ran but the bookkeeping did not.
		token, res.Resumed = pend, true
		cur = desc.VersionWithStage(store.Previous)
	default:
		tok := in.Token
		if tok == "" {
			tok = e.newToken()
		}
		begin, err := e.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: desc.ARN, Token: tok, Rules: in.Rules})
		if err != nil {
			if remote {
				return e.failed(ctx, log, desc, kind, "", tok, in.Options, err)
			}
			return nil, fmt.Errorf("start rotation of %s: %w", desc.Name, err)
		}
		token, res.Resumed = begin.Token, begin.Resumed
		desc.RotationEnabled = true
		if !begin.Resumed {
			desc.VersionIDsToStages[token] = []string{store.Pending}
		} else if _, known := desc.VersionIDsToStages[token]; !known {
			// Another client began this rotation after the description
			// was read (RotateSecret through rotor server): read it again.
			fresh, err := e.st.DescribeSecret(ctx, desc.ARN)
			if err != nil {
				return nil, fmt.Errorf("start rotation of %s: %w", desc.Name, err)
			}
			desc.VersionIDsToStages = fresh.VersionIDsToStages
		}
	}
	res.Token = token
	log = log.With("version", token)
	log.Info("RotationStarted", "resumed", res.Resumed)
	e.record(ctx, audit.Event{Type: audit.RotationStarted, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Version: token, Resumed: res.Resumed})
	if remote {
		if err := e.wait(ctx, desc.ARN, token, in.Wait); err != nil {
			return e.failed(ctx, log, desc, kind, "", token, in.Options, err)
		}
		res.Previous, res.Duration = cur, e.now().Sub(start)
		log.Info("RotationSucceeded", "previous", cur, "duration", res.Duration, "remote", true)
		e.record(ctx, audit.Event{Type: audit.RotationSucceeded, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Version: token, Previous: cur, DurationMS: res.Duration.Milliseconds()})
		return res, nil
	}
	ref.fresh = !res.Resumed
	ref.log = log.With("kind", kind)
	for _, step := range Steps {
		if err := ctx.Err(); err != nil {
			return e.failed(ctx, log, desc, kind, step, token, in.Options, err)
		}
		ref.log = log.With("step", string(step), "kind", kind)
		if err := e.step(ctx, Event{Step: step, SecretID: desc.ARN, Token: token, Options: in.Options}, false, ref); err != nil {
			return e.failed(ctx, log, desc, kind, step, token, in.Options, err)
		}
	}
	// What Secrets Manager does after a successful finishSecret. The new
	// credential is AWSCURRENT now: a failure here must not make the caller
	// retry (that would start a second rotation and cut the previous
	// credential's grace period short), so it is reported, not returned.
	// The next rotation finishes this bookkeeping.
	var after []error
	if err := e.st.MarkRotated(ctx, desc.ARN, e.now()); err != nil {
		after = append(after, fmt.Errorf("record the rotation date: %w", err))
	}
	rm := store.UpdateSecretVersionStageInput{SecretID: desc.ARN, VersionStage: store.Pending, RemoveFromVersionID: token}
	if _, err := e.st.UpdateSecretVersionStage(ctx, rm); err != nil && !errors.Is(err, store.ErrInvalidParameter) {
		after = append(after, fmt.Errorf("remove AWSPENDING: %w", err))
	}
	if err := errors.Join(after...); err != nil {
		log.Warn("rotation done, but its bookkeeping failed; the next rotation finishes it", "error", err)
		e.emit(ctx, Notice{Outcome: Partial, ARN: desc.ARN, Name: desc.Name, Kind: kind, Step: StepFinish, Token: token, Err: err, Options: opts,
			Message: fmt.Sprintf("%s was rotated (version %s is AWSCURRENT), but: %v", desc.Name, token, err),
			Action:  fmt.Sprintf("nothing is at risk; `rotor rotate %s` finishes the bookkeeping", desc.Name)})
	}
	res.Previous, res.Revoked = cur, ref.revoked
	res.Duration = e.now().Sub(start)
	log.Info("RotationSucceeded", "previous", cur, "duration", res.Duration)
	e.record(ctx, audit.Event{Type: audit.RotationSucceeded, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Version: token, Previous: cur, Resumed: res.Resumed, DurationMS: res.Duration.Milliseconds()})
	e.emit(ctx, Notice{Outcome: Succeeded, ARN: desc.ARN, Name: desc.Name, Kind: kind, Step: StepFinish, Token: token,
		Message: fmt.Sprintf("%s was rotated: version %s is now AWSCURRENT", desc.Name, token), Options: opts})
	return res, nil
}

func (e *Engine) failed(ctx context.Context, log interface {
	Error(string, ...any)
}, desc *store.Description, kind string, step Step, token string, opts rotator.Options, err error) (*Result, error) {
	err = lockLost(ctx, err)
	where := "at " + string(step)
	if step == "" {
		where = "waiting for the rotation function"
	}
	log.Error("RotationFailed", "step", string(step), "error", err)
	e.record(ctx, audit.Event{Type: audit.RotationFailed, Secret: desc.Name, ARN: desc.ARN, Kind: kind, Version: token, Step: string(step), Error: err.Error()})
	e.emit(ctx, Notice{Outcome: Failed, ARN: desc.ARN, Name: desc.Name, Kind: kind, Step: step, Token: token,
		Message: fmt.Sprintf("rotation of %s failed %s: %v", desc.Name, where, err),
		Action:  fmt.Sprintf("fix the cause, then run `rotor rotate %s` to resume (version %s stays AWSPENDING), or `rotor cancel %s` to abandon it", desc.Name, token, desc.Name),
		Err:     err, Options: rotator.Merge(e.defaults, rotator.FromTags(desc.Tags), opts)})
	var se *StepError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("rotate %s: %w", desc.Name, err)
	}
	return nil, fmt.Errorf("rotate %s: %s: %w", desc.Name, where, err)
}

// Cancel abandons an incomplete rotation the way CancelRotateSecret does
// (rotation is disabled and AWSPENDING removed), and revokes the credential
// the abandoned rotation had already created, so that nothing is orphaned.
// The pending version is marked for revocation before its label goes, so
// the revocation is on record even if the kind cannot run now; the
// credentials revoked are only those the store, asked again after the
// cancel, shows holding no AWS label.
func (e *Engine) Cancel(ctx context.Context, secretID string) (abandoned string, err error) {
	ctx, unlock, err := e.lock(ctx, secretID)
	if err != nil {
		return "", err
	}
	defer unlock()
	defer func() { err = lockLost(ctx, err) }()
	desc, err := e.st.DescribeSecret(ctx, secretID)
	if err != nil {
		return "", err
	}
	pend := desc.VersionWithStage(store.Pending)
	if pend != "" && pend != desc.VersionWithStage(store.Current) {
		if err := e.markVersion(ctx, desc, pend); err != nil {
			return "", err
		}
		abandoned = pend
	}
	if _, err := e.st.CancelRotation(ctx, desc.ARN); err != nil {
		return "", err
	}
	if abandoned != "" {
		e.log.Info("RotationAbandoned", "secret", desc.ARN, "version", abandoned, "reason", "cancelled")
		e.record(ctx, audit.Event{Type: audit.RotationAbandoned, Secret: desc.Name, ARN: desc.ARN, Kind: e.options(desc, nil)[rotator.OptKind], Version: abandoned, Reason: "cancelled"})
	}
	// Settle what is due now: the abandoned credential, and any earlier
	// revocation still on record.
	if desc, err = e.st.DescribeSecret(ctx, desc.ARN); err != nil {
		return abandoned, fmt.Errorf("rotation abandoned; read it back to revoke its credential: %w", err)
	}
	if len(desc.RevokeMarked()) == 0 {
		return abandoned, nil
	}
	ref, err := e.rotatorFor(desc, nil)
	if err != nil {
		return abandoned, fmt.Errorf("rotation abandoned, but its credential cannot be revoked now (%w); it stays marked for revocation, `rotor status %s` shows it", err, desc.Name)
	}
	ref.log = e.log.With("secret", desc.ARN, "kind", ref.kind)
	if !ref.caps.Revokes {
		return abandoned, e.clearDue(ctx, ref)
	}
	if err := e.settleErr(ctx, ref); err != nil {
		return abandoned, fmt.Errorf("rotation abandoned, but a credential is not revoked yet (it stays marked; `rotor status %s` shows it): %w", desc.Name, err)
	}
	return abandoned, nil
}

// clearDue takes the revocation labels off the versions that are due,
// for a kind that revokes nothing.
func (e *Engine) clearDue(ctx context.Context, ref *secretRef) error {
	for _, id := range ref.desc.RevokeMarked() {
		if awsLabeled(ref.desc.VersionIDsToStages[id]) {
			continue
		}
		for _, s := range ref.desc.VersionIDsToStages[id] {
			if !store.IsRevokeLabel(s) {
				continue
			}
			in := store.UpdateSecretVersionStageInput{SecretID: ref.desc.ARN, VersionStage: s, RemoveFromVersionID: id}
			if _, err := e.st.UpdateSecretVersionStage(ctx, in); err != nil {
				return fmt.Errorf("clear revocation mark of %s: %w", id, err)
			}
		}
	}
	return nil
}

// MaxWait bounds how long Rotate waits for a rotation function when the
// caller's context has no deadline of its own.
const MaxWait = 15 * time.Minute

// wait polls until the rotation function the store invoked has made token
// AWSCURRENT and the service has removed AWSPENDING, with backoff, until ctx
// ends. A version that loses AWSPENDING without becoming current failed.
func (e *Engine) wait(ctx context.Context, arn, token string, limit time.Duration) error {
	if _, ok := ctx.Deadline(); !ok || limit > 0 {
		if limit <= 0 {
			limit = MaxWait
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	delay := 500 * time.Millisecond
	for {
		d, err := e.st.DescribeSecret(ctx, arn)
		if err != nil {
			return fmt.Errorf("wait for the rotation function: %w", err)
		}
		stages := d.VersionIDsToStages[token]
		switch {
		case has(stages, store.Current) && !has(stages, store.Pending):
			return nil
		case !has(stages, store.Current) && !has(stages, store.Pending):
			return fmt.Errorf("the rotation function gave up on version %s; its logs say why", token)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("the rotation function has not finished version %s yet (%w); `rotor status %s` shows its progress", token, ctx.Err(), d.Name)
		case <-t.C:
		}
		if delay < 10*time.Second {
			delay *= 2
		}
	}
}
