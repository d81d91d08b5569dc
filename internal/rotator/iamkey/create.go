package iamkey

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// Create makes a new access key for the user and returns req.Current with
// the new key pair.
//
// It deletes keys only when the user is at IAM's limit of two and only as
// many as make room for the new one (see victims): first a key that no
// version references and that was created after the AWSCURRENT key (an
// orphan of an earlier attempt that made the key and died before storing
// it), then the AWSPREVIOUS key (it leaves AWSPREVIOUS at finishSecret
// anyway), and only then an older key that no version references (made
// outside rotor, or by another secret on the same user), with a warning
// naming it. A user with room keeps every key it has. The key of
// AWSCURRENT is never deleted.
func (r *Rotator) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	log := req.Log()
	cur, err := parseValue(req.Current, "AWSCURRENT")
	if err != nil {
		return secret.Value{}, err
	}
	prev, err := parseValue(req.Previous, "AWSPREVIOUS")
	if err != nil {
		log.WarnContext(ctx, "AWSPREVIOUS holds no access key; no key is kept for it", "secret", req.Name, "error", err)
		prev = keyValue{}
	}
	user, err := r.userFor(ctx, req, cur)
	if err != nil {
		return secret.Value{}, err
	}
	who, err := r.callerFor(cur, "AWSCURRENT")
	if err != nil {
		return secret.Value{}, err
	}
	c := r.iamClient(who.creds)

	keys, err := c.listAccessKeys(ctx, user)
	if err != nil {
		return secret.Value{}, explain("ListAccessKeys", user, who, err)
	}
	curID, prevID := "", ""
	if cur.hasKey() {
		curID = cur.keyID
	}
	if prev.hasKey() && prev.keyID != curID {
		prevID = prev.keyID
	}
	if curID != "" && !slices.ContainsFunc(keys, func(k accessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == curID }) {
		log.WarnContext(ctx, "the access key in AWSCURRENT no longer exists in IAM; it was deleted outside rotor",
			"secret", req.Name, "user", user, "access_key_id", curID)
	}

	gone := map[string]bool{}
	for _, v := range victims(keys, curID, prevID) {
		if err := r.makeRoom(ctx, c, log, req.Name, user, curID, who, v); err != nil {
			return secret.Value{}, err
		}
		gone[v.id] = true
	}
	var kept []string
	for _, k := range keys {
		if id := aws.ToString(k.AccessKeyId); !gone[id] {
			kept = append(kept, id)
		}
	}

	key, err := c.createAccessKey(ctx, user)
	if err != nil {
		if errorCode(err) == "LimitExceeded" {
			return secret.Value{}, limitError(user, kept, err)
		}
		return secret.Value{}, explain("CreateAccessKey", user, who, err)
	}
	if !accessKeyIDRE().MatchString(aws.ToString(key.AccessKeyId)) || aws.ToString(key.SecretAccessKey) == "" {
		return secret.Value{}, fmt.Errorf("CreateAccessKey for IAM user %q answered without a usable key id and secret; the next attempt deletes whatever it made", user)
	}
	id := aws.ToString(key.AccessKeyId)
	log.InfoContext(ctx, "created access key", "secret", req.Name, "user", user, "access_key_id", id)
	return cur.withKey(id, aws.ToString(key.SecretAccessKey))
}

// deleteKey deletes key id of user, refusing the key of AWSCURRENT. A key
// that is already gone counts as deleted.
func (r *Rotator) deleteKey(ctx context.Context, c *iamClient, user, id, curID string, who caller) error {
	if id == "" || id == curID {
		return fmt.Errorf("refusing to delete access key %q of IAM user %q: it is the key of AWSCURRENT (%w)", id, user, rotator.ErrPermanent)
	}
	err := c.deleteAccessKey(ctx, user, id)
	if err != nil && !isNoSuchEntity(err) {
		return explain("DeleteAccessKey", user, who, err)
	}
	return nil
}

// noteLastUse logs when the key about to be deleted was last used, so that
// a consumer still on it can be traced. Best effort, with auth=role only
// (the self-rotation policy does not grant iam:GetAccessKeyLastUsed).
func (r *Rotator) noteLastUse(ctx context.Context, c *iamClient, log *slog.Logger, user, id string, who caller) {
	if who.self {
		return
	}
	used, err := c.lastUsed(ctx, id)
	if err != nil || used.LastUsedDate == nil {
		return
	}
	log.InfoContext(ctx, "the access key about to be deleted was last used", "user", user, "access_key_id", id,
		"last_used", *used.LastUsedDate, "service", aws.ToString(used.ServiceName))
}

// makeRoom deletes the key v to make room for the new one, logging why.
func (r *Rotator) makeRoom(ctx context.Context, c *iamClient, log *slog.Logger, name, user, curID string, who caller, v victim) error {
	attrs := []any{"secret", name, "user", user, "access_key_id", v.id, "created", v.created}
	switch v.why {
	case whyOrphan:
		log.WarnContext(ctx, "deleting an access key that no version of the secret references and that was created after the AWSCURRENT key: "+
			"an orphan of an earlier attempt of this rotation; the user is at IAM's limit of two keys", attrs...)
	case whyPrevious:
		r.noteLastUse(ctx, c, log, user, v.id, who)
		log.InfoContext(ctx, "deleting the previous access key to make room for the new one (IAM allows two)", attrs...)
	default:
		r.noteLastUse(ctx, c, log, user, v.id, who)
		log.WarnContext(ctx, "deleting an access key that no version of the secret references and that is older than the AWSCURRENT key, "+
			"to make room for the new one: the user is at IAM's limit of two keys; it was made outside rotor or by another secret on the same user, "+
			"whose consumers lose it now (give each secret its own IAM user)", attrs...)
	}
	if err := r.deleteKey(ctx, c, user, v.id, curID, who); err != nil {
		return fmt.Errorf("make room for the new key (IAM allows two per user) by deleting key %s: %w", v.id, err)
	}
	return nil
}
