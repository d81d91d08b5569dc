package database

import (
	"context"
	"errors"
	"strings"

	"github.com/rotorhq/rotor/internal/rotator"
)

// Redacted replaces a password in an error text.
const Redacted = "[redacted]"

// scrubber removes passwords from error texts: database drivers put what
// they were given (a DSN, a statement) into their errors.
type scrubber struct{ secrets []string }

// scrub returns err with every secret in its text replaced by Redacted.
// The result keeps rotator.ErrPermanent, errRefused and the context errors for
// errors.Is, and nothing else of err's chain, which could print the
// original text.
func (s scrubber) scrub(err error) error {
	if err == nil {
		return nil
	}
	if already, ok := err.(*scrubbed); ok && len(s.secrets) == 0 {
		return already
	}
	msg := err.Error()
	for _, sec := range s.secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, Redacted)
		}
	}
	out := &scrubbed{msg: msg}
	for _, k := range []error{rotator.ErrPermanent, context.Canceled, context.DeadlineExceeded, errRefused} {
		if errors.Is(err, k) {
			out.kinds = append(out.kinds, k)
		}
	}
	return out
}

type scrubbed struct {
	msg   string
	kinds []error
}

func (e *scrubbed) Error() string { return e.msg }

func (e *scrubbed) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}
