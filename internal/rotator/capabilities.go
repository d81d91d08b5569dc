package rotator

import (
	"time"

	"github.com/rotorhq/rotor/internal/secret"
)

// Capabilities tell the engine which work a kind needs, so that it makes no
// store call whose answer the kind ignores. A Rotator that does not implement
// Capabler gets the safe default: everything true.
type Capabilities struct {
	// NeedsPrevious: Create reads Request.Previous (an IAM user's second key).
	NeedsPrevious bool
	// Sets: Set does real work (a database password change), so the
	// engine reads the values setSecret needs. False for credentials the
	// issuing service creates itself.
	Sets bool
	// Revokes: Revoke does real work, so the engine records and settles
	// revocations. False for credentials that nothing external tracks.
	Revokes bool
	// RevokeWithCurrent: Revoke authenticates with the current credential
	// (a user rotating their own key), so the engine fills Request.Current.
	RevokeWithCurrent bool
	// CreateRetiresPrevious: Create may retire the AWSPREVIOUS credential
	// to make room for the new one (IAM's limit of two keys per user). The
	// previous credential's grace period then ends when the next rotation
	// starts rather than when it finishes.
	CreateRetiresPrevious bool
}

// Capabler is implemented by Rotators that need less than everything.
type Capabler interface {
	Capabilities() Capabilities
}

// CapabilitiesOf returns r's capabilities.
func CapabilitiesOf(r Rotator) Capabilities {
	if c, ok := r.(Capabler); ok {
		return c.Capabilities()
	}
	return Capabilities{NeedsPrevious: true, Sets: true, Revokes: true, RevokeWithCurrent: true}
}

// Identifier is implemented by kinds whose secret value holds more than the
// credential (a JSON object with a user name, an expiry): CredentialID names
// the credential a value holds (an access key id, a token), so that two
// values holding the same credential in different bytes are known as one.
// It returns "" for a value it cannot read.
type Identifier interface {
	CredentialID(v secret.Value) string
}

// Refresher is implemented by kinds whose credentials expire (ECR's 12-hour
// tokens): a secret of such a kind without a rotation schedule is due when
// RefreshAt of its current value has passed, instead of on every pass.
// RefreshAt is zero for a value it cannot read, which is due at once.
type Refresher interface {
	RefreshAt(v secret.Value) time.Time
}

// Expirer is implemented by kinds whose credentials carry a known expiry
// (a JFrog token's, ECR's 12-hour tokens): ExpiresAt is that of the
// credential v holds, zero when unknown. rotor server exports the time left
// as a metric.
type Expirer interface {
	ExpiresAt(v secret.Value) time.Time
}
