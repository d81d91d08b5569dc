package local

import (
	"slices"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// version is one version of a secret. Value is the plaintext; it only ever
// leaves memory sealed (see file.go).
type version struct {
	ID       string    `json:"id"`
	Stages   []string  `json:"stages,omitempty"`
	Value    []byte    `json:"value,omitempty"`
	Binary   bool      `json:"binary,omitempty"`
	HasValue bool      `json:"hasValue,omitempty"`
	Created  time.Time `json:"created"`
	Accessed time.Time `json:"accessed,omitzero"`

	// slot is where a store file keeps the version's entry (see bolt.go),
	// 0 for a version not written there in its own entry yet.
	slot uint64
}

func (v *version) has(label string) bool { return slices.Contains(v.Stages, label) }

func (v *version) value() secret.Value {
	if v.Binary {
		return secret.NewBinary(v.Value)
	}
	return secret.New(string(v.Value))
}

func (v *version) setValue(val secret.Value) {
	v.Value, v.Binary, v.HasValue = val.Bytes(), val.IsBinary(), true
}

func (v *version) addStage(label string) {
	if !v.has(label) {
		v.Stages = append(v.Stages, label)
	}
}

func (v *version) removeStage(label string) {
	v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == label })
	if len(v.Stages) == 0 {
		v.Stages = nil
	}
}

// record is one secret with all its versions, oldest first.
type record struct {
	ARN               string              `json:"arn"`
	Name              string              `json:"name"`
	Seq               uint64              `json:"seq"` // creation order within the store
	Description       string              `json:"description,omitempty"`
	KmsKeyID          string              `json:"kmsKeyId,omitempty"`
	RotationEnabled   bool                `json:"rotationEnabled,omitempty"`
	RotationLambdaARN string              `json:"rotationLambdaArn,omitempty"`
	Rules             store.RotationRules `json:"rules,omitzero"`
	Tags              []store.Tag         `json:"tags,omitempty"`
	Created           time.Time           `json:"created"`
	Changed           time.Time           `json:"changed,omitzero"`
	Accessed          time.Time           `json:"accessed,omitzero"`
	Rotated           time.Time           `json:"rotated,omitzero"`
	NextRotation      time.Time           `json:"nextRotation,omitzero"`
	Deleted           time.Time           `json:"deleted,omitzero"`
	DeletionDate      time.Time           `json:"deletionDate,omitzero"`
	Versions          []*version          `json:"versions,omitempty"`

	// partial is set on a record read from a store file without its
	// values (see db.lookup); txn.value reads the one an operation needs.
	partial bool
	// slots is the highest version slot a store file gave the secret.
	slots uint64
	// listed is set on a record a listing read from a store file (see
	// source.listing): Versions holds its labelled versions alone, with
	// their ids and labels only. Such a record is never kept or written.
	listed bool
}

// clone returns a copy that can be changed without touching r. Values are
// shared: they are never modified in place.
func (r *record) clone() *record {
	c := *r
	c.Tags = slices.Clone(r.Tags)
	c.Versions = make([]*version, len(r.Versions))
	for i, v := range r.Versions {
		vc := *v
		vc.Stages = slices.Clone(v.Stages)
		c.Versions[i] = &vc
	}
	return &c
}

// scheduled reports whether the secret is marked for deletion.
func (r *record) scheduled() bool { return !r.DeletionDate.IsZero() }

// expired reports whether the secret's recovery window has passed: it is gone.
func (r *record) expired(now time.Time) bool {
	return r.scheduled() && !now.Before(r.DeletionDate)
}

func (r *record) version(id string) *version {
	for _, v := range r.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// versionOrNil is version for a record that may be nil.
func (r *record) versionOrNil(id string) *version {
	if r == nil {
		return nil
	}
	return r.version(id)
}

// holder returns the version that holds label, or nil.
func (r *record) holder(label string) *version {
	for _, v := range r.Versions {
		if v.has(label) {
			return v
		}
	}
	return nil
}

// attach moves label to v from whichever version holds it. Moving
// AWSCURRENT moves AWSPREVIOUS to the version it left, as Secrets Manager
// does, unless keepPrevious is set (the caller places AWSPREVIOUS itself).
func (r *record) attach(v *version, label string, keepPrevious bool) {
	old := r.holder(label)
	if old == v {
		return
	}
	if old != nil {
		old.removeStage(label)
	}
	v.addStage(label)
	if label == store.Current && old != nil && !keepPrevious {
		r.attach(old, store.Previous, true)
	}
}

// prune drops the oldest versions without a label while the secret has more
// than store.MaxVersions. Labelled versions are never dropped.
func (r *record) prune() {
	for len(r.Versions) > store.MaxVersions {
		i := slices.IndexFunc(r.Versions, func(v *version) bool { return len(v.Stages) == 0 })
		if i < 0 {
			return
		}
		r.Versions = slices.Delete(r.Versions, i, i+1)
	}
}

func (r *record) ref() *store.SecretRef { return &store.SecretRef{ARN: r.ARN, Name: r.Name} }

func (r *record) describe() store.Description {
	d := store.Description{
		ARN:                r.ARN,
		Name:               r.Name,
		Description:        r.Description,
		KmsKeyID:           r.KmsKeyID,
		RotationEnabled:    r.RotationEnabled,
		RotationLambdaARN:  r.RotationLambdaARN,
		RotationRules:      r.Rules,
		LastRotatedDate:    r.Rotated,
		LastChangedDate:    r.Changed,
		LastAccessedDate:   r.Accessed,
		NextRotationDate:   r.NextRotation,
		DeletedDate:        r.Deleted,
		CreatedDate:        r.Created,
		Tags:               slices.Clone(r.Tags),
		VersionIDsToStages: make(map[string][]string, 3),
	}
	for _, v := range r.Versions {
		if len(v.Stages) > 0 {
			d.VersionIDsToStages[v.ID] = slices.Clone(v.Stages)
		}
	}
	return d
}

func (v *version) info() store.VersionInfo {
	return store.VersionInfo{
		VersionID:        v.ID,
		VersionStages:    slices.Clone(v.Stages),
		CreatedDate:      v.Created,
		LastAccessedDate: v.Accessed,
		HasValue:         v.HasValue,
	}
}
