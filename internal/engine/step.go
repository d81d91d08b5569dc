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

// Step runs one step of a rotation, as a rotation function does for one
// Secrets Manager event. It starts with the guard every AWS template uses:
// rotation must be enabled, the token must be a version of the secret, a
// version that already holds AWSCURRENT means the work is done, and one that
// does not hold AWSPENDING is refused.
//
// Step is what a rotation function runs for each event, so it also logs the
// audit events (RotationStarted at createSecret, RotationSucceeded when
// finishSecret moves AWSCURRENT, RotationFailed) and sends notifications.
// Rotate, which logs and notifies for the whole rotation, runs the steps
// without them.
//
// When the store can lock rotations, Step holds the secret's rotation lock
// while it runs, so that it never races a whole rotation or another step.
func (e *Engine) Step(ctx context.Context, ev Event) error {
	ctx, unlock, err := e.lock(ctx, ev.SecretID)
	if err != nil {
		return err
	}
	defer unlock()
	return lockLost(ctx, e.step(ctx, ev, true, nil))
}

// step runs one step. Within a whole rotation, run carries what the earlier
// steps learned (the description, updated as labels move, and the values
// read or made), so that no step asks the store what is already known; a
// single event (run == nil) reads everything afresh.
func (e *Engine) step(ctx context.Context, ev Event, single bool, run *secretRef) error {
	step, err := ParseStep(string(ev.Step))
	if err != nil {
		return err
	}
	ev.Step = step
	log := e.log.With("secret", ev.SecretID, "version", ev.Token, "step", string(step))
	start := e.now()
	ref, done, err := e.guard(ctx, ev, run)
	if err != nil {
		e.record(ctx, audit.Event{Type: audit.StepFailed, Secret: ev.SecretID, Version: ev.Token, Step: string(step),
			DurationMS: e.now().Sub(start).Milliseconds(), Error: err.Error()})
		if single {
			e.record(ctx, audit.Event{Type: audit.RotationFailed, Secret: ev.SecretID, Version: ev.Token, Step: string(step), Error: err.Error()})
		}
		// One line per failure: RotationFailed here for a single event, or
		// from Rotate for a whole rotation.
		log.Debug("step failed", "error", err)
		if single {
			log.Error("RotationFailed", "error", err)
			e.emit(ctx, Notice{Outcome: Failed, ARN: ev.SecretID, Name: ev.SecretID, Step: step, Token: ev.Token,
				Message: fmt.Sprintf("%s of %s failed before it started: %v", step, ev.SecretID, err),
				Action:  "check the secret's rotation configuration and the version the event names", Err: err, Options: e.defaults})
		}
		return &StepError{Name: ev.SecretID, Step: step, Token: ev.Token, Err: err}
	}
	if ref != nil && run == nil {
		ref.log = log.With("kind", ref.kind)
		ref.rotTok = ev.RotationToken
	}
	if done {
		// The version is already AWSCURRENT: nothing to do, but a finish
		// step still settles a revocation an earlier attempt left behind.
		log.Debug("version already AWSCURRENT")
		if step != StepFinish || ref == nil {
			return nil
		}
	}
	switch {
	case done:
		err = e.afterMove(ctx, ref)
	case step == StepCreate:
		err = e.create(ctx, ref, ev.Token)
	case step == StepSet:
		err = e.set(ctx, ref, ev.Token)
	case step == StepTest:
		err = e.test(ctx, ref, ev.Token)
	case step == StepFinish:
		err = e.finish(ctx, ref, ev.Token)
	}
	ev2 := audit.Event{Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: ev.Token, Step: string(step),
		DurationMS: e.now().Sub(start).Milliseconds()}
	if err != nil {
		ref.log.Debug("step failed", "error", err)
		ev2.Type, ev2.Error = audit.StepFailed, err.Error()
		e.record(ctx, ev2)
		if single {
			e.record(ctx, audit.Event{Type: audit.RotationFailed, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: ev.Token, Step: string(step), Error: err.Error()})
			ref.log.Error("RotationFailed", "error", err)
			e.emit(ctx, Notice{Outcome: Failed, ARN: ref.desc.ARN, Name: ref.desc.Name, Kind: ref.kind, Step: step, Token: ev.Token,
				Message: fmt.Sprintf("rotation of %s failed at %s: %v", ref.desc.Name, step, err),
				Action:  "fix the cause; Secrets Manager retries the rotation, or start it again with `rotor rotate " + ref.desc.Name + "`",
				Err:     err, Options: ref.opts})
		}
		return &StepError{Name: ref.desc.Name, Step: step, Token: ev.Token, Err: err}
	}
	ref.log.Info("step succeeded")
	ev2.Type = audit.StepSucceeded
	e.record(ctx, ev2)
	if single {
		switch step {
		case StepCreate:
			ref.log.Info("RotationStarted")
			e.record(ctx, audit.Event{Type: audit.RotationStarted, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: ev.Token})
		case StepFinish:
			ref.log.Info("RotationSucceeded")
			e.record(ctx, audit.Event{Type: audit.RotationSucceeded, Secret: ref.desc.Name, ARN: ref.desc.ARN, Kind: ref.kind, Version: ev.Token})
			e.emit(ctx, Notice{Outcome: Succeeded, ARN: ref.desc.ARN, Name: ref.desc.Name, Kind: ref.kind, Step: step, Token: ev.Token,
				Message: fmt.Sprintf("%s was rotated: version %s is now AWSCURRENT", ref.desc.Name, ev.Token), Options: ref.opts})
		}
	}
	return nil
}

// guard checks the event against the secret's state. done reports that the
// token's version already holds AWSCURRENT. With run set, the state is the
// one the rotation tracks; otherwise it is read with DescribeSecret.
func (e *Engine) guard(ctx context.Context, ev Event, run *secretRef) (ref *secretRef, done bool, err error) {
	desc := (*store.Description)(nil)
	if run != nil {
		desc = run.desc
	} else if desc, err = e.st.DescribeSecret(ctx, ev.SecretID); err != nil {
		return nil, false, err
	}
	if !desc.RotationEnabled {
		return nil, false, fmt.Errorf("%w: enable it with `rotor rotate %s` or RotateSecret", ErrNotEnabled, desc.Name)
	}
	stages, ok := desc.VersionIDsToStages[ev.Token]
	if !ok {
		return nil, false, fmt.Errorf("version %s has no stage for rotation of secret %s", ev.Token, desc.Name)
	}
	build := func() (*secretRef, error) {
		if run != nil {
			return run, nil
		}
		return e.rotatorFor(desc, ev.Options)
	}
	if has(stages, store.Current) {
		// Done already. The rotator is only needed to settle revocations;
		// a secret whose kind can no longer be built has nothing to settle.
		ref, _ = build()
		return ref, true, nil
	}
	if !has(stages, store.Pending) {
		return nil, false, fmt.Errorf("version %s of secret %s is not AWSPENDING: it is not the rotation in progress", ev.Token, desc.Name)
	}
	if ref, err = build(); err != nil {
		return nil, false, err
	}
	return ref, false, nil
}

// create makes the new credential and stores it as AWSPENDING, unless a
// value for (token, AWSPENDING) already exists.
func (e *Engine) create(ctx context.Context, ref *secretRef, token string) error {
	arn := ref.desc.ARN
	if ref.pending != nil {
		return nil
	}
	if !ref.fresh {
		pend, err := e.value(ctx, arn, token, store.Pending)
		if err == nil {
			ref.log.Debug("pending value exists; create is a no-op")
			ref.pending = &pend
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read AWSPENDING: %w", err)
		}
	}
	cur, err := e.current(ctx, ref)
	if err != nil {
		return err
	}
	req := e.request(ref, token)
	req.Current = cur
	if ref.caps.NeedsPrevious {
		if prev := ref.desc.VersionWithStage(store.Previous); prev != "" {
			if req.Previous, err = e.value(ctx, arn, prev, store.Previous); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("read AWSPREVIOUS: %w", err)
			}
		}
	}
	val, err := ref.rot.Create(ctx, req)
	if err != nil {
		return fmt.Errorf("create credential: %w", err)
	}
	_, err = e.st.PutSecretValue(ctx, store.PutSecretValueInput{
		SecretID: arn, ClientRequestToken: token, Value: val,
		VersionStages: []string{store.Pending}, RotationToken: ref.rotTok,
	})
	if err != nil {
		if !errors.Is(err, store.ErrResourceExists) {
			// The write may have happened (a lost response), so the
			// credential is kept; a retried Create finds it by the token if
			// it was not stored.
			return fmt.Errorf("store pending version: %w", err)
		}
		// Another invocation stored its value for this token first: the
		// credential just made is nobody's, so take it back rather than
		// leave it orphaned, and go on with the stored one (testSecret
		// proves it).
		if ref.caps.Revokes {
			rreq := e.request(ref, token)
			rreq.Current, rreq.Pending = cur, val
			if rerr := ref.rot.Revoke(ctx, rreq); rerr != nil {
				ref.log.Warn("could not revoke the credential another invocation superseded", "error", rerr)
			}
		}
		stored, rerr := e.value(ctx, arn, token, store.Pending)
		if rerr != nil {
			return fmt.Errorf("store pending version: %w", err)
		}
		ref.log.Info("another invocation stored the pending version first; using it")
		ref.pending = &stored
		return nil
	}
	ref.pending = &val
	ref.log.Info("created pending version")
	return nil
}

// set applies the pending credential to the target system. Kinds that set
// nothing cost no store call.
func (e *Engine) set(ctx context.Context, ref *secretRef, token string) error {
	if !ref.caps.Sets {
		return nil
	}
	cur, err := e.current(ctx, ref)
	if err != nil {
		return err
	}
	pend, err := e.pendingValue(ctx, ref, token)
	if err != nil {
		return err
	}
	req := e.request(ref, token)
	req.Current, req.Pending = cur, pend
	if err := ref.rot.Set(ctx, req); err != nil {
		return fmt.Errorf("set credential: %w", err)
	}
	return nil
}

// test proves the pending credential with the kind's authenticated call.
func (e *Engine) test(ctx context.Context, ref *secretRef, token string) error {
	pend, err := e.pendingValue(ctx, ref, token)
	if err != nil {
		return err
	}
	req := e.request(ref, token)
	req.Pending = pend
	if err := ref.rot.Test(ctx, req); err != nil {
		return fmt.Errorf("test credential: %w", err)
	}
	return nil
}

// current returns AWSCURRENT's value, read once per rotation.
func (e *Engine) current(ctx context.Context, ref *secretRef) (secret.Value, error) {
	if ref.cur == nil {
		v, err := e.value(ctx, ref.desc.ARN, "", store.Current)
		if err != nil {
			return secret.Value{}, fmt.Errorf("read AWSCURRENT: %w", err)
		}
		ref.cur = &v
	}
	return *ref.cur, nil
}

// pendingValue returns the token's AWSPENDING value, read once per rotation.
func (e *Engine) pendingValue(ctx context.Context, ref *secretRef, token string) (secret.Value, error) {
	if ref.pending == nil {
		v, err := e.value(ctx, ref.desc.ARN, token, store.Pending)
		if err != nil {
			return secret.Value{}, fmt.Errorf("read AWSPENDING: %w", err)
		}
		ref.pending = &v
	}
	return *ref.pending, nil
}

func (e *Engine) request(ref *secretRef, token string) rotator.Request {
	return rotator.Request{SecretID: ref.desc.ARN, Name: ref.desc.Name, Token: token,
		Options: ref.opts, Logger: ref.log}
}

func has(stages []string, label string) bool {
	for _, s := range stages {
		if s == label {
			return true
		}
	}
	return false
}

// awsLabeled reports whether a version holds any of the labels that keep its
// credential alive.
func awsLabeled(stages []string) bool {
	return has(stages, store.Current) || has(stages, store.Previous) || has(stages, store.Pending)
}
