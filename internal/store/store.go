// Package store defines the interface rotor uses to keep secrets, with the
// semantics of AWS Secrets Manager: versions identified by client request
// tokens, staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING) of which each
// sits on at most one version, tags, and rotation configuration.
//
// Every backend (the embedded store, Secrets Manager itself, Kubernetes)
// implements Store with the same behaviour and the same error kinds, so the
// engine and the CLI never need to know which one they talk to.
package store

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
)

// The staging labels Secrets Manager gives meaning to.
const (
	Current  = "AWSCURRENT"
	Previous = "AWSPREVIOUS"
	Pending  = "AWSPENDING"
)

// RevokeLabel is the prefix of the labels that mark a version whose
// credential rotor must revoke once the version holds none of the AWS
// labels. Each such version carries its own label, RevokeLabelFor(id), so
// that any number of revocations can be due at once. It is how a revocation
// that was due when a process died, or that failed, is remembered in the
// store itself.
const RevokeLabel = "rotor-revoke"

// RevokeLabelFor returns the revocation label of version id.
func RevokeLabelFor(id string) string { return RevokeLabel + ":" + id }

// IsRevokeLabel reports whether label marks a revocation.
func IsRevokeLabel(label string) bool {
	return label == RevokeLabel || strings.HasPrefix(label, RevokeLabel+":")
}

// MaxVersions is how many versions a secret keeps; older versions without a
// staging label are pruned first, as Secrets Manager does.
const MaxVersions = 100

// Store is a Secrets Manager-compatible secret store.
//
// SecretID arguments accept a secret's name or its ARN. Errors are *Error
// values whose Code is one of the Err* codes below, so callers test them with
// errors.Is(err, store.ErrNotFound) and so on.
type Store interface {
	CreateSecret(ctx context.Context, in CreateSecretInput) (*SecretRef, error)
	DescribeSecret(ctx context.Context, secretID string) (*Description, error)
	ListSecrets(ctx context.Context, in ListSecretsInput) (*ListSecretsOutput, error)
	GetSecretValue(ctx context.Context, in GetSecretValueInput) (*SecretValue, error)
	PutSecretValue(ctx context.Context, in PutSecretValueInput) (*VersionRef, error)
	UpdateSecret(ctx context.Context, in UpdateSecretInput) (*VersionRef, error)
	UpdateSecretVersionStage(ctx context.Context, in UpdateSecretVersionStageInput) (*SecretRef, error)
	ListSecretVersionIDs(ctx context.Context, in ListSecretVersionIDsInput) (*ListSecretVersionIDsOutput, error)
	TagResource(ctx context.Context, secretID string, tags []Tag) error
	UntagResource(ctx context.Context, secretID string, keys []string) error
	DeleteSecret(ctx context.Context, in DeleteSecretInput) (*DeleteSecretOutput, error)
	RestoreSecret(ctx context.Context, secretID string) (*SecretRef, error)

	// BeginRotation is the bookkeeping half of RotateSecret: it stores the
	// rotation configuration (enables rotation, records Rules when given)
	// and attaches AWSPENDING to a new placeholder version, without a value,
	// whose id is Token. It does not run any step.
	//
	// If AWSPENDING already sits on a version other than AWSCURRENT, it
	// creates nothing and returns that version's token with Resumed set: the
	// caller finishes that rotation instead of starting another.
	BeginRotation(ctx context.Context, in BeginRotationInput) (*BeginRotationOutput, error)

	// CancelRotation is CancelRotateSecret: it disables rotation and removes
	// AWSPENDING from the version that holds it, if any.
	CancelRotation(ctx context.Context, secretID string) (*SecretRef, error)

	// MarkRotated records a successful rotation: LastRotatedDate = at, and
	// NextRotationDate computed from the rules.
	MarkRotated(ctx context.Context, secretID string, at time.Time) error
}

// RotationLocker is implemented by stores that can keep two processes from
// rotating the same secret at once. Lock returns ErrRotationInProgress when
// another holder has the lock; the lock is released by the returned function
// or when the holding process dies, so an abandoned rotation can be resumed.
type RotationLocker interface {
	LockRotation(ctx context.Context, secretID string) (unlock func(), err error)
}

// LeaseLocker is implemented by RotationLockers whose lock is a lease that
// can be lost while it is held: one its holder could not renew in time, so
// that another process may take it over. LockRotationLease is LockRotation
// that also returns a context, derived from ctx, that ends with the cause
// ErrLockLost when that happens: whatever runs under the lock must stop.
type LeaseLocker interface {
	RotationLocker
	LockRotationLease(ctx context.Context, secretID string) (held context.Context, unlock func(), err error)
}

// ErrLockLost is the cause with which a LeaseLocker's context ends when its
// lock is lost.
var ErrLockLost = errors.New("the rotation lock was lost (its lease could not be renewed in time, or another process took it)")

// WriteLocker is implemented by RotationLockers whose rotation lock can also
// be taken for a write that is not a rotation (PutSecretValue). LockWrite
// waits, until ctx is done, while other such writes hold the lock, so
// concurrent writes of one secret run one after another; it fails with
// ErrRotationInProgress only when a rotation (a LockRotation holder) has it.
type WriteLocker interface {
	LockWrite(ctx context.Context, secretID string) (unlock func(), err error)
}

// Tag is a key/value pair attached to a secret.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// RotationRules are Secrets Manager's rotation rules. Exactly one of
// AutomaticallyAfterDays and ScheduleExpression is set when rules exist.
type RotationRules struct {
	AutomaticallyAfterDays int64  `json:"AutomaticallyAfterDays,omitempty"`
	ScheduleExpression     string `json:"ScheduleExpression,omitempty"`
	Duration               string `json:"Duration,omitempty"`
}

// IsZero reports whether no rule is set.
func (r RotationRules) IsZero() bool {
	return r.AutomaticallyAfterDays == 0 && r.ScheduleExpression == "" && r.Duration == ""
}

// SecretRef names a secret, and the version an operation touched if any.
type SecretRef struct {
	ARN       string
	Name      string
	VersionID string
}

// VersionRef is the result of writing a version.
type VersionRef struct {
	ARN           string
	Name          string
	VersionID     string
	VersionStages []string
}

// CreateSecretInput creates a secret, with a first version when a value is given.
type CreateSecretInput struct {
	Name               string
	Description        string
	KmsKeyID           string
	ClientRequestToken string // version id of the first version; generated when empty
	Value              *secret.Value
	Tags               []Tag
	// ForceOverwriteReplicaSecret and AddReplicaRegions are not supported.
}

// Description is what DescribeSecret returns. It never carries a value.
type Description struct {
	ARN                string
	Name               string
	Description        string
	KmsKeyID           string
	RotationEnabled    bool
	RotationLambdaARN  string
	RotationRules      RotationRules
	LastRotatedDate    time.Time
	LastChangedDate    time.Time
	LastAccessedDate   time.Time
	NextRotationDate   time.Time
	DeletedDate        time.Time
	CreatedDate        time.Time
	Tags               []Tag
	VersionIDsToStages map[string][]string
}

// Tag returns the value of the tag key and whether it is set.
func (d *Description) Tag(key string) (string, bool) {
	for _, t := range d.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// VersionWithStage returns the id of the version that holds label, or "".
func (d *Description) VersionWithStage(label string) string {
	for id, stages := range d.VersionIDsToStages {
		for _, s := range stages {
			if s == label {
				return id
			}
		}
	}
	return ""
}

// RevokeMarked returns the versions that carry a revocation label, sorted.
func (d *Description) RevokeMarked() []string {
	var ids []string
	for id, stages := range d.VersionIDsToStages {
		for _, s := range stages {
			if IsRevokeLabel(s) {
				ids = append(ids, id)
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// HasStage reports whether version id holds label.
func (d *Description) HasStage(id, label string) bool {
	for _, s := range d.VersionIDsToStages[id] {
		if s == label {
			return true
		}
	}
	return false
}

// ListSecretsInput selects secrets. Filters follow Secrets Manager: Key is
// one of name, description, tag-key, tag-value, primary-region, owning-service
// or all; a value that starts with "!" negates it; values match as prefixes.
type ListSecretsInput struct {
	Filters                []Filter
	MaxResults             int // 1-100; 0 means the default
	NextToken              string
	IncludePlannedDeletion bool
	SortOrder              string // "asc" or "desc" by creation date; default desc
}

// Filter is one ListSecrets filter.
type Filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// ListSecretsOutput is one page of secrets.
type ListSecretsOutput struct {
	Secrets   []Description
	NextToken string
}

// GetSecretValueInput selects a version by id, by label, or both (the
// version must then hold the label). With neither, AWSCURRENT is read.
type GetSecretValueInput struct {
	SecretID     string
	VersionID    string
	VersionStage string
}

// SecretValue is one version's value.
type SecretValue struct {
	ARN           string
	Name          string
	VersionID     string
	VersionStages []string
	Value         secret.Value
	CreatedDate   time.Time
}

// PutSecretValueInput writes a new version. Writing the same token again with
// the same value is a no-op; with a different value it fails with
// ErrResourceExists. Without VersionStages the new version gets AWSCURRENT.
type PutSecretValueInput struct {
	SecretID           string
	ClientRequestToken string
	Value              secret.Value
	VersionStages      []string
	RotationToken      string
}

// UpdateSecretInput changes metadata, and writes a new AWSCURRENT version
// when Value is set.
type UpdateSecretInput struct {
	SecretID           string
	ClientRequestToken string
	Description        *string
	KmsKeyID           *string
	Value              *secret.Value
}

// UpdateSecretVersionStageInput moves a label. Moving a label that is
// attached to a version requires RemoveFromVersionID to name that version.
type UpdateSecretVersionStageInput struct {
	SecretID            string
	VersionStage        string
	MoveToVersionID     string
	RemoveFromVersionID string
}

// ListSecretVersionIDsInput lists a secret's versions.
type ListSecretVersionIDsInput struct {
	SecretID          string
	MaxResults        int
	NextToken         string
	IncludeDeprecated bool
}

// VersionInfo describes one version, without its value.
type VersionInfo struct {
	VersionID        string
	VersionStages    []string
	CreatedDate      time.Time
	LastAccessedDate time.Time
	HasValue         bool
}

// ListSecretVersionIDsOutput is one page of versions.
type ListSecretVersionIDsOutput struct {
	ARN       string
	Name      string
	Versions  []VersionInfo
	NextToken string
}

// DeleteSecretInput schedules a deletion (7-30 days, default 30) or, with
// ForceDeleteWithoutRecovery, deletes at once.
type DeleteSecretInput struct {
	SecretID                   string
	RecoveryWindowInDays       int64
	ForceDeleteWithoutRecovery bool
}

// DeleteSecretOutput says when the secret will be gone.
type DeleteSecretOutput struct {
	ARN          string
	Name         string
	DeletionDate time.Time
}

// BeginRotationInput configures rotation and creates the pending placeholder.
type BeginRotationInput struct {
	SecretID          string
	Token             string
	RotationLambdaARN string
	Rules             *RotationRules
}

// BeginRotationOutput says which token the rotation runs under.
type BeginRotationOutput struct {
	ARN     string
	Name    string
	Token   string
	Resumed bool
}

// RemoteRotator is implemented by stores whose BeginRotation also starts the
// rotation elsewhere: Secrets Manager invoking the secret's rotation
// function. The engine then waits for that rotation instead of running the
// steps itself.
type RemoteRotator interface {
	RotatesRemotely() bool
}
