package iamkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rotorhq/rotor/internal/rotator"
)

// Backoff of Test's polling while a new key propagates.
const (
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 8 * time.Second
	// deadlineMargin is kept free before the context's deadline to report
	// the failure before the invocation is killed.
	deadlineMargin = time.Second
)

// Test proves req.Pending works: STS GetCallerIdentity signed with the new
// key must name the user's ARN (arn:aws:iam::<account>:user/<path><user>).
// With auth=self it also lists the user's keys with the new key, proving the
// next rotation can run on it. Refusals of a key IAM has not propagated yet
// are retried within a bound (see untilAccepted).
func (r *Rotator) Test(ctx context.Context, req rotator.Request) error {
	pend, err := parseValue(req.Pending, "AWSPENDING")
	if err != nil {
		return err
	}
	if !pend.hasKey() || pend.secretKey == "" {
		return fmt.Errorf("the AWSPENDING value holds no access key (fields %q and %q): %w", FieldAccessKeyID, FieldSecretAccessKey, rotator.ErrPermanent)
	}
	user, err := r.userFor(ctx, req, pend)
	if err != nil {
		return err
	}
	creds := staticCreds(pend)
	stsc := r.stsClient(creds)
	var iamc *iamClient
	if r.auth == AuthSelf {
		iamc = r.iamClient(creds)
	}

	log := req.Log()
	attempts, err := r.untilAccepted(ctx, log, user, pend.keyID, func() error { return r.probe(ctx, stsc, iamc, user, pend.keyID) })
	var sr *stillRefused
	if errors.As(err, &sr) {
		return fmt.Errorf("the new access key %s of IAM user %q is still refused after %s and %d attempts "+
			"(IAM has not propagated it yet, or it was deleted): raise the option %s (now %s) and the invocation's timeout; "+
			"the rotation is retried and reuses the stored key: %w",
			pend.keyID, user, sr.waited.Round(time.Millisecond), sr.attempts, OptTestTimeout, r.testTimeout, sr.last)
	}
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "the new access key works", "secret", req.Name, "user", user, "access_key_id", pend.keyID, "attempts", attempts)
	return nil
}

// stillRefused is untilAccepted's answer when AWS kept refusing the key
// until the bound.
type stillRefused struct {
	waited   time.Duration
	attempts int
	last     error
}

func (e *stillRefused) Error() string {
	return fmt.Sprintf("access key still refused after %s and %d attempts: %v", e.waited, e.attempts, e.last)
}

func (e *stillRefused) Unwrap() error { return e.last }

// untilAccepted runs probe until it succeeds or fails with anything but a
// refused key (returned as is). A new key is refused until IAM has
// propagated it, so refusals are retried with exponential backoff until the
// test-timeout option or the context's deadline (less a margin), whichever
// comes first; then the answer is a *stillRefused.
func (r *Rotator) untilAccepted(ctx context.Context, log *slog.Logger, user, keyID string, probe func() error) (int, error) {
	start := r.deps.Now()
	deadline := start.Add(r.testTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(deadline) {
		deadline = d.Add(-deadlineMargin)
	}
	delay := firstBackoff
	for attempt := 1; ; attempt++ {
		err := probe()
		if err == nil || !isRefusedKey(err) {
			return attempt, err
		}
		now := r.deps.Now()
		left := deadline.Sub(now)
		if left <= 0 {
			return attempt, &stillRefused{waited: now.Sub(start), attempts: attempt, last: err}
		}
		log.DebugContext(ctx, "AWS refuses the access key; it may not have propagated yet, waiting", "user", user,
			"access_key_id", keyID, "attempt", attempt, "wait", min(delay, left))
		if err := r.deps.Sleep(ctx, min(delay, left)); err != nil {
			return attempt, fmt.Errorf("waiting for access key %s of IAM user %q to become valid: %w", keyID, user, err)
		}
		delay = min(2*delay, maxBackoff)
	}
}

// probe makes the authenticated calls that prove the key.
func (r *Rotator) probe(ctx context.Context, stsc *sts.Client, iamc *iamClient, user, keyID string) error {
	out, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if isRefusedKey(err) {
			return err
		}
		return fmt.Errorf("prove the new access key %s of IAM user %q with sts:GetCallerIdentity: %w", keyID, user, err)
	}
	arn := aws.ToString(out.Arn)
	if !isUserARN(arn, user) {
		return fmt.Errorf("the new access key %s belongs to %q, not to IAM user %q: check the %q field, the %s and %s options (%w)",
			keyID, arn, user, FieldUserName, OptUser, OptUserPattern, rotator.ErrPermanent)
	}
	if iamc == nil {
		return nil
	}
	err = iamc.probe(ctx, user)
	if err != nil && !isRefusedKey(err) {
		return explain("ListAccessKeys", user, caller{self: true, keyID: keyID}, err)
	}
	return err
}

// isUserARN reports whether arn is arn:<partition>:iam::<account>:user/<path><user>.
func isUserARN(arn, user string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || parts[4] == "" {
		return false
	}
	res, ok := strings.CutPrefix(parts[5], "user/")
	if !ok {
		return false
	}
	return res[strings.LastIndexByte(res, '/')+1:] == user
}
