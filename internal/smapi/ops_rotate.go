package smapi

import (
	"context"
	"errors"

	"github.com/rotorhq/rotor/internal/store"
)

type rotateSecretInput struct {
	SecretID           *string    `json:"SecretId"`
	ClientRequestToken *string    `json:"ClientRequestToken"`
	RotationLambdaARN  *string    `json:"RotationLambdaARN"`
	RotationRules      *rulesJSON `json:"RotationRules"`
	RotateImmediately  *bool      `json:"RotateImmediately"`
}

func (in *rotateSecretInput) validate() error {
	var v validator
	v.secretID(in.SecretID)
	v.token("clientRequestToken", in.ClientRequestToken)
	v.length("rotationLambdaARN", in.RotationLambdaARN, 0, maxLambdaARN)
	if r := in.RotationRules; r != nil {
		v.rangeOf("rotationRules.automaticallyAfterDays", r.AutomaticallyAfterDays, 1, maxRotationDays)
		v.length("rotationRules.duration", r.Duration, 2, 3)
		v.pattern("rotationRules.duration", r.Duration, durationPattern())
		v.length("rotationRules.scheduleExpression", r.ScheduleExpression, 1, maxSchedule)
		v.pattern("rotationRules.scheduleExpression", r.ScheduleExpression, schedulePattern())
	}
	if err := v.err(); err != nil {
		return err
	}
	if r := in.RotationRules; r != nil && r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		return errorf(excInvalidParameter, "You can't use both AutomaticallyAfterDays and ScheduleExpression in RotationRules: choose one.")
	}
	return nil
}

// rotateSecret begins a rotation in the store and, when a RotateFunc is
// configured, runs it before answering. See the package documentation for
// why a failed rotation still answers 200.
func (h *handler) rotateSecret(ctx context.Context, body []byte) (any, error) {
	var in rotateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	token := deref(in.ClientRequestToken)
	if token == "" {
		// AWS requires the token, which every SDK fills in; rotor
		// generates one so that hand-written requests work too.
		token = h.newID()
	}
	rules := in.RotationRules.toStore()
	if h.check != nil {
		if err := h.check(ctx, *in.SecretID); err != nil {
			if store.CodeOf(err) != "" {
				return nil, err // the store's own error, with its code
			}
			return nil, errorf(excInvalidRequest, "%s cannot be rotated: %v", *in.SecretID, err)
		}
	}
	immediately := derefBool(in.RotateImmediately, true)
	if h.rotate != nil && !immediately {
		// A configuration test: the rotation function records the rules
		// and tests under its own lock, so no placeholder is left for a
		// scheduler to take for a rotation in the meantime.
		err := h.rotate(context.WithoutCancel(ctx), *in.SecretID, token, rules, false)
		if err != nil && store.CodeOf(err) == store.ErrNotFound {
			return nil, err
		}
		d, derr := h.store.DescribeSecret(ctx, *in.SecretID)
		if derr != nil {
			return nil, derr
		}
		out := refOutput{ARN: d.ARN, Name: d.Name, VersionID: omitEmpty(token)}
		if err != nil {
			h.log.Error("rotation failed", "secret", d.Name, "version", token, "rotate_immediately", false, "error", err)
			if !errors.Is(err, store.ErrRotationInProgress) {
				return withHeader{out: out, key: RotationErrorHeader, value: headerText(err.Error())}, nil
			}
		}
		return out, nil
	}
	begun, err := h.store.BeginRotation(ctx, store.BeginRotationInput{
		SecretID:          *in.SecretID,
		Token:             token,
		RotationLambdaARN: deref(in.RotationLambdaARN),
		Rules:             rules,
	})
	if err != nil {
		return nil, err
	}
	if begun.Resumed {
		h.log.Warn("RotateSecret resumes an unfinished rotation", "secret", begun.Name, "version", begun.Token)
	}
	var failed string
	if h.rotate != nil {
		// The rotation must not stop half-way because the client gave up
		// waiting: it runs to its end, as the Lambda does on AWS.
		if err := h.rotate(context.WithoutCancel(ctx), begun.ARN, begun.Token, rules, immediately); err != nil {
			// "In progress" means another rotation of the secret (the
			// scheduler's) is running it now: the client should wait for
			// that one, so it is not reported as a failure.
			if !errors.Is(err, store.ErrRotationInProgress) {
				failed = err.Error()
			}
			// AWS reports a failing rotation function in its logs, not in
			// RotateSecret's answer; the pending version stays for the next
			// attempt. rotor does the same, through its log.
			h.log.Error("rotation failed", "secret", begun.Name, "version", begun.Token,
				"rotate_immediately", immediately, "error", err)
		} else {
			h.log.Info("rotation finished", "secret", begun.Name, "version", begun.Token,
				"rotate_immediately", immediately, "resumed", begun.Resumed)
		}
	}
	out := refOutput{ARN: begun.ARN, Name: begun.Name, VersionID: omitEmpty(begun.Token)}
	if failed != "" {
		return withHeader{out: out, key: RotationErrorHeader, value: headerText(failed)}, nil
	}
	return out, nil
}

// RotationErrorHeader carries, on RotateSecret's answer, why the
// in-process rotation failed. AWS answers success either way (its rotation
// function runs later); a client that knows this header, such as rotor's
// own awssm store, can report the failure at once instead of waiting.
const RotationErrorHeader = "X-Rotor-Rotation-Error"

// withHeader is an output answered with one extra response header.
type withHeader struct {
	out        any
	key, value string
}

// headerText makes s fit an HTTP header value: one line, printable ASCII.
func headerText(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = ' '
		}
	}
	if len(b) > 1000 {
		b = append(b[:997], "..."...)
	}
	return string(b)
}

// cancelRotateSecret abandons the rotation in progress through the
// configured CancelFunc, which also revokes what the rotation had created,
// or else with the store's bookkeeping alone.
func (h *handler) cancelRotateSecret(ctx context.Context, body []byte) (any, error) {
	id, err := decodeSecretID(body)
	if err != nil {
		return nil, err
	}
	if h.cancel != nil {
		d, err := h.store.DescribeSecret(ctx, id)
		if err != nil {
			return nil, err
		}
		// The answer names the version the rotation created, as the
		// store's CancelRotation does.
		pending := d.VersionWithStage(store.Pending)
		// A revocation must not stop half-way because the client gave up.
		if err := h.cancel(context.WithoutCancel(ctx), d.ARN); err != nil {
			return nil, err
		}
		h.log.Info("rotation cancelled", "secret", d.Name, "version", pending)
		return refOutput{ARN: d.ARN, Name: d.Name, VersionID: omitEmpty(pending)}, nil
	}
	ref, err := h.store.CancelRotation(ctx, id)
	if err != nil {
		return nil, err
	}
	return refOutput{ARN: ref.ARN, Name: ref.Name, VersionID: omitEmpty(ref.VersionID)}, nil
}
