package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator"
)

// A driver error that echoes a DSN or a statement loses the passwords in
// it, and keeps whether it is permanent or a context error.
func TestScrub(t *testing.T) {
	pw := `s3cr3t'"\pw`
	driverErr := fmt.Errorf("%w: dial user=app password=%s host=db: ALTER ROLE app PASSWORD '%s'", rotator.ErrPermanent, pw, pw)
	err := scrubber{secrets: []string{pw, ""}}.scrub(fmt.Errorf("set: %w", driverErr))
	if strings.Contains(err.Error(), pw) || strings.Count(err.Error(), Redacted) != 2 {
		t.Errorf("scrubbed error %q", err)
	}
	if !errors.Is(err, rotator.ErrPermanent) {
		t.Error("the scrubbed error is no longer permanent")
	}
	if errors.Unwrap(err) != nil {
		t.Error("the scrubbed error unwraps to the original text")
	}
	ctxErr := scrubber{secrets: []string{pw}}.scrub(fmt.Errorf("connect %s: %w", pw, context.DeadlineExceeded))
	if !errors.Is(ctxErr, context.DeadlineExceeded) || errors.Is(ctxErr, rotator.ErrPermanent) {
		t.Errorf("context error kinds not kept: %v", ctxErr)
	}
	if (scrubber{}).scrub(nil) != nil {
		t.Error("nil scrubbed to an error")
	}
}
