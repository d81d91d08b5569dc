package iamkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rotorhq/rotor/internal/rotator"
)

// Revoke revokes the key in req.Pending (a version that left AWSPREVIOUS):
// it deactivates the key, then deletes it, or with revoke=deactivate only
// deactivates it so it can still be examined. A key that no longer exists
// is revoked already. It refuses the key of req.Current. When the key stays
// in IAM it returns a *PartialError.
//
// With auth=self IAM is called with the key of req.Current; when the
// request carries none, with the revoked key itself, which deletes itself
// without deactivating first (an inactive key can call nothing).
func (r *Rotator) Revoke(ctx context.Context, req rotator.Request) error {
	log := req.Log()
	old, err := parseValue(req.Pending, "revoked")
	if err != nil || !old.hasKey() {
		log.WarnContext(ctx, "the revoked version holds no IAM access key; nothing to revoke", "secret", req.Name, "version", req.Token)
		return nil
	}
	cur, _ := parseValue(req.Current, "AWSCURRENT")
	if cur.hasKey() && cur.keyID == old.keyID {
		return fmt.Errorf("refusing to revoke access key %s: it is also the key of AWSCURRENT (%w)", old.keyID, rotator.ErrPermanent)
	}
	user, err := r.userFor(ctx, req, old)
	if err != nil {
		return err
	}
	if r.auth == AuthSelf && !cur.hasKey() {
		return r.revokeWithItself(ctx, log, req, user, old)
	}
	who, err := r.callerFor(cur, "AWSCURRENT")
	if err != nil {
		return err
	}
	c := r.iamClient(who.creds)
	id := old.keyID
	partial := func(deactivated bool, err error) error {
		return &PartialError{User: user, KeyID: old.keyID, Deactivated: deactivated, Err: err}
	}

	err = c.deactivate(ctx, user, id)
	switch {
	case isNoSuchEntity(err):
		log.InfoContext(ctx, "access key already deleted", "secret", req.Name, "user", user, "access_key_id", old.keyID)
		return nil
	case err != nil:
		return partial(false, explain("UpdateAccessKey", user, who, err))
	}
	log.InfoContext(ctx, "deactivated access key", "secret", req.Name, "user", user, "access_key_id", old.keyID)
	if r.revoke == RevokeDeactivate {
		return nil
	}
	err = c.deleteAccessKey(ctx, user, id)
	switch {
	case isNoSuchEntity(err):
	case err != nil:
		return partial(true, explain("DeleteAccessKey", user, who, err))
	}
	log.InfoContext(ctx, "deleted access key", "secret", req.Name, "user", user, "access_key_id", old.keyID)
	return nil
}

// revokeWithItself revokes a key with its own credentials. AWS refuses a
// key that is deleted or inactive, but also one it has not propagated yet
// (a pending key abandoned right after Create), so a refusal counts as
// revoked only once it outlasts the propagation bound.
func (r *Rotator) revokeWithItself(ctx context.Context, log *slog.Logger, req rotator.Request, user string, old keyValue) error {
	who := caller{creds: staticCreds(old), self: true, keyID: old.keyID}
	stsc, c := r.stsClient(who.creds), r.iamClient(who.creds)
	id := old.keyID
	partial := func(err error) error { return &PartialError{User: user, KeyID: old.keyID, Err: err} }

	_, err := r.untilAccepted(ctx, log, user, old.keyID, func() error {
		_, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
	var sr *stillRefused
	switch {
	case errors.As(err, &sr):
		log.InfoContext(ctx, "AWS refuses the access key: it is deleted or inactive already", "secret", req.Name, "user", user, "access_key_id", old.keyID)
		return nil
	case err != nil:
		return partial(fmt.Errorf("check access key %s of IAM user %q before revoking it: %w", old.keyID, user, err))
	}
	if r.revoke == RevokeDeactivate {
		err := c.deactivate(ctx, user, id)
		if err != nil && !isNoSuchEntity(err) {
			return partial(explain("UpdateAccessKey", user, who, err))
		}
		log.InfoContext(ctx, "deactivated access key", "secret", req.Name, "user", user, "access_key_id", old.keyID)
		return nil
	}
	err = c.deleteAccessKey(ctx, user, id)
	if err != nil && !isNoSuchEntity(err) {
		return partial(explain("DeleteAccessKey", user, who, err))
	}
	log.InfoContext(ctx, "deleted access key", "secret", req.Name, "user", user, "access_key_id", old.keyID)
	return nil
}
