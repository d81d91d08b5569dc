package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// Status reports a secret's rotation state, with warnings for what needs a
// person: an abandoned AWSPENDING, a revocation still due, an overdue
// rotation, a secret without a kind.
func (e *Engine) Status(ctx context.Context, secretID string) (*Status, error) {
	desc, err := e.st.DescribeSecret(ctx, secretID)
	if err != nil {
		return nil, err
	}
	st := &Status{
		ARN: desc.ARN, Name: desc.Name, RotationEnabled: desc.RotationEnabled, Rules: desc.RotationRules,
		LastRotatedDate: desc.LastRotatedDate, NextRotationDate: desc.NextRotationDate,
		Current: desc.VersionWithStage(store.Current), Previous: desc.VersionWithStage(store.Previous),
		Pending: desc.VersionWithStage(store.Pending),
	}
	for _, id := range desc.RevokeMarked() {
		if !awsLabeled(desc.VersionIDsToStages[id]) {
			st.RevokeDue = append(st.RevokeDue, id)
		}
	}
	st.Kind = e.options(desc, nil)[rotator.OptKind]
	in := store.ListSecretVersionIDsInput{SecretID: desc.ARN, IncludeDeprecated: true}
	for {
		page, err := e.st.ListSecretVersionIDs(ctx, in)
		if err != nil {
			return nil, err
		}
		st.Versions = append(st.Versions, page.Versions...)
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.SliceStable(st.Versions, func(i, j int) bool { return st.Versions[i].CreatedDate.After(st.Versions[j].CreatedDate) })

	warn := func(f string, a ...any) { st.Warnings = append(st.Warnings, fmt.Sprintf(f, a...)) }
	if st.Kind == "" {
		warn("no kind: tag the secret %s=<kind> so rotor knows how to rotate it", rotator.TagKind)
	} else if _, err := e.kinds.Lookup(st.Kind); err != nil {
		warn("%v", err)
	}
	if st.Current == "" {
		warn("no version holds AWSCURRENT: readers get nothing; put a value with `rotor put %s`", desc.Name)
	}
	if st.Pending != "" && st.Pending != st.Current {
		var created string
		for _, v := range st.Versions {
			if v.VersionID == st.Pending && !v.CreatedDate.IsZero() {
				created = " since " + v.CreatedDate.UTC().Format(time.RFC3339)
			}
		}
		warn("an incomplete rotation holds AWSPENDING on version %s%s: run `rotor rotate %s` to finish it or `rotor cancel %s` to abandon it", st.Pending, created, desc.Name, desc.Name)
	}
	for _, id := range st.RevokeDue {
		if st.Kind == "" {
			// Nothing can revoke it: a rotation needs the kind.
			warn("version %s is marked for revocation (label %s), but the secret has no kind, so nothing can revoke it: tag the secret %s=<kind> and run `rotor rotate %s`, or, if it holds no credential, remove the label",
				id, store.RevokeLabelFor(id), rotator.TagKind, desc.Name)
			continue
		}
		warn("the credential of version %s is still to be revoked: the next rotation retries it, or run `rotor rotate %s`", id, desc.Name)
	}
	if desc.RotationEnabled && desc.RotationRules.IsZero() {
		warn("rotation is enabled but has no schedule, so it is never due: set one with `rotor rotate %s --every 30d` (or --schedule)", desc.Name)
	}
	if desc.RotationEnabled && !desc.NextRotationDate.IsZero() && e.now().After(desc.NextRotationDate) {
		warn("rotation is overdue: it was due %s", desc.NextRotationDate.UTC().Format(time.RFC3339))
	}
	if !desc.DeletedDate.IsZero() {
		warn("the secret is scheduled for deletion (requested %s); `rotor restore %s` cancels that", desc.DeletedDate.UTC().Format("2006-01-02"), desc.Name)
	}
	return st, nil
}
