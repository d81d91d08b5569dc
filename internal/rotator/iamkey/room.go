package iamkey

import (
	"cmp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxKeys is IAM's limit of access keys per user.
const maxKeys = 2

// why says why Create deletes a key to make room, in the order it picks
// them.
type why int

const (
	// whyOrphan: no version references the key and it was created at or
	// after the AWSCURRENT key (the AWSPREVIOUS key when IAM no longer has
	// the current one); most likely an earlier attempt of this
	// rotation made it and died before the value was stored (its secret is
	// lost, so it cannot be adopted).
	whyOrphan why = iota
	// whyPrevious: the key of AWSPREVIOUS, which leaves AWSPREVIOUS when
	// this rotation finishes anyway.
	whyPrevious
	// whyStranger: no version references the key and it is older than the
	// AWSCURRENT key (or neither referenced key is in IAM): a key made
	// outside rotor, or by another secret on the same user.
	whyStranger
)

// victim is a key Create deletes to make room for the new one.
type victim struct {
	id      string
	created time.Time // zero when IAM did not say
	why     why
}

// victims chooses the keys to delete so that the user has room for one more
// key within IAM's limit: none while there is room. It picks, in order,
// unreferenced keys created at or after the AWSCURRENT key (newest first),
// the AWSPREVIOUS key, and only then older unreferenced keys (newest
// first). It never picks curID.
func victims(keys []accessKeyMetadata, curID, prevID string) []victim {
	need := len(keys) - (maxKeys - 1)
	if need <= 0 {
		return nil
	}
	// anchor is when the AWSCURRENT key was made; when IAM no longer has
	// it (deleted outside rotor), when the AWSPREVIOUS key was.
	var anchor, prevCreated *time.Time
	for _, k := range keys {
		switch id := aws.ToString(k.AccessKeyId); {
		case id == "":
		case id == curID:
			anchor = k.CreateDate
		case id == prevID:
			prevCreated = k.CreateDate
		}
	}
	if anchor == nil {
		anchor = prevCreated
	}
	var cands []victim
	for _, k := range keys {
		id := aws.ToString(k.AccessKeyId)
		if id == "" || id == curID {
			continue
		}
		v := victim{id: id, created: aws.ToTime(k.CreateDate), why: whyStranger}
		switch {
		case id == prevID:
			v.why = whyPrevious
		// IAM reports CreateDate in whole seconds: a key of the same second
		// as the current one counts as newer.
		case anchor != nil && k.CreateDate != nil && !k.CreateDate.Before(*anchor):
			v.why = whyOrphan
		}
		cands = append(cands, v)
	}
	slices.SortStableFunc(cands, func(a, b victim) int {
		if c := cmp.Compare(a.why, b.why); c != 0 {
			return c
		}
		return b.created.Compare(a.created) // newest first
	})
	return cands[:min(need, len(cands))]
}
