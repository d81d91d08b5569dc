package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// Config is what an Engine needs. Store and Kinds are required.
type Config struct {
	Store    store.Store
	Kinds    *rotator.Registry
	Defaults rotator.Options // the lowest layer of options (environment)
	Logger   *slog.Logger
	Now      func() time.Time
	NewToken func() string
	// Notify, when set, is told the outcome of every whole rotation and of
	// every failed or partial step. It must not fail the rotation.
	Notify func(ctx context.Context, n Notice)
	// Audit, when set, receives an audit event for every rotation, step
	// and revocation. It must not fail the rotation.
	Audit audit.Sink
}

// Outcome is how a rotation ended, for notifications.
type Outcome string

// The outcomes a Notice reports.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	// Partial: the new credential is live but cleaning up an old one failed.
	Partial Outcome = "partial"
)

// Notice is what Config.Notify receives. It never carries a value.
type Notice struct {
	Outcome Outcome
	ARN     string
	Name    string
	Kind    string
	Step    Step
	Token   string
	Message string // what happened
	Action  string // what to do about it
	Err     error
	Options rotator.Options // the secret's merged options, for routing
}

// Engine runs rotations. It is safe for concurrent use; rotations of the
// same secret are serialized by the store when it implements
// store.RotationLocker.
type Engine struct {
	st       store.Store
	kinds    *rotator.Registry
	defaults rotator.Options
	log      *slog.Logger
	now      func() time.Time
	newToken func() string
	notify   func(context.Context, Notice)
	auditTo  audit.Sink
}

// New returns an Engine.
func New(cfg Config) *Engine {
	e := &Engine{st: cfg.Store, kinds: cfg.Kinds, defaults: cfg.Defaults, log: cfg.Logger,
		now: cfg.Now, newToken: cfg.NewToken, notify: cfg.Notify, auditTo: cfg.Audit}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.newToken == nil {
		e.newToken = NewToken
	}
	if e.kinds == nil {
		e.kinds = rotator.NewRegistry()
	}
	return e
}

// NewToken returns a random version id in the UUID v4 form Secrets Manager uses.
func NewToken() string {
	tok, err := store.NewToken(nil)
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return tok
}

// secretRef is what every step knows about the secret it works on.
type secretRef struct {
	desc    *store.Description
	opts    rotator.Options
	kind    string
	rot     rotator.Rotator
	caps    rotator.Capabilities
	log     *slog.Logger
	rotTok  string
	revoked []string
	// What a whole rotation has learned so far (nil: not known yet).
	cur, pending *secret.Value
	prev         *secret.Value // AWSPREVIOUS's value, once finish has moved the labels
	fresh        bool          // the placeholder was just created: it has no value
}

// options merges the engine defaults, the secret's tags and the call's
// options, and adds the facts of the rotation rules for kinds that must
// check a credential's lifetime against them.
func (e *Engine) options(desc *store.Description, call rotator.Options) rotator.Options {
	o := rotator.Merge(e.defaults, rotator.FromTags(desc.Tags), call)
	r := desc.RotationRules
	switch {
	case r.ScheduleExpression != "":
		o[rotator.OptSchedule] = r.ScheduleExpression
	case r.AutomaticallyAfterDays > 0:
		o[rotator.OptSchedule] = fmt.Sprintf("rate(%d days)", r.AutomaticallyAfterDays)
	}
	if r.Duration != "" {
		o[rotator.OptWindow] = r.Duration
	}
	return o
}

// rotatorFor builds the secret's Rotator from its merged options.
func (e *Engine) rotatorFor(desc *store.Description, call rotator.Options) (*secretRef, error) {
	opts := e.options(desc, call)
	kind := opts[rotator.OptKind]
	if kind == "" {
		return nil, fmt.Errorf("secret %s has no kind: tag it %s=<kind> (one of %v) or set ROTOR_KIND",
			desc.Name, rotator.TagKind, e.kinds.Names())
	}
	if _, err := opts.Bool(rotator.OptRevokeAtFinish, false); err != nil {
		return nil, err
	}
	rot, err := e.kinds.New(kind, opts)
	if err != nil {
		return nil, err
	}
	return &secretRef{desc: desc, opts: opts, kind: kind, rot: rot, caps: rotator.CapabilitiesOf(rot)}, nil
}

// value reads one version's value, naming the stage explicitly.
func (e *Engine) value(ctx context.Context, arn, versionID, stage string) (secret.Value, error) {
	out, err := e.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: arn, VersionID: versionID, VersionStage: stage})
	if err != nil {
		return secret.Value{}, err
	}
	return out.Value, nil
}

// StepError is a failed step: which secret, which step, and why.
type StepError struct {
	Name  string
	Step  Step
	Token string
	Err   error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s of %s (version %s): %v", e.Step, e.Name, e.Token, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrNotEnabled is returned by a step when the secret's rotation is disabled.
var ErrNotEnabled = errors.New("rotation is not enabled for this secret")
