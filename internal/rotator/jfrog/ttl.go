package jfrog

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/schedule"
	"github.com/rotorhq/rotor/internal/store"
)

const day = 24 * time.Hour

// Margin is the safety a token's lifetime needs beyond the rotation
// interval plus the window: 10% of that sum, and at least an hour. It
// covers consumers that cache the secret and rotations that fail and are
// retried.
func Margin(intervalPlusWindow time.Duration) time.Duration {
	return max(intervalPlusWindow/10, time.Hour)
}

// CheckTTL reports whether a token that lives for ttl outlives the longest
// time between two rotations under rules: the interval plus the window plus
// Margin. A rotation starts anywhere in its window, so the token made at
// the start of one window must still work at the end of the next.
//
// The interval comes from AutomaticallyAfterDays, rate(N hours|days) or,
// for cron(...), the longest gap between two firings. Without a Duration
// the window is taken as 1h for intervals under a day and 24h otherwise
// (Secrets Manager closes a day-based window at the end of the UTC day).
// Rules without a schedule check nothing.
func CheckTTL(ttl time.Duration, rules store.RotationRules) error {
	interval, err := Interval(rules)
	if err != nil || interval == 0 {
		return err
	}
	window, err := Window(rules, interval)
	if err != nil {
		return err
	}
	margin := Margin(interval + window)
	need := interval + window + margin
	if ttl >= need {
		return nil
	}
	return permanentf("the token lifetime %s (%s=%d or tag %s%s) is shorter than the rotation interval %s + window %s + margin %s = %s; raise %s to at least %d (%s) or rotate more often",
		FormatDuration(ttl), EnvTTL, int64(ttl/time.Second), rotator.TagPrefix, OptTTL,
		FormatDuration(interval), FormatDuration(window), FormatDuration(margin), FormatDuration(need),
		EnvTTL, int64((need+time.Second-1)/time.Second), FormatDuration(need))
}

// Interval is the longest time between the starts of two rotation windows
// under rules (schedule.Schedule.MaxInterval), or 0 when rules set no
// schedule. Rules Secrets Manager would refuse are an error.
func Interval(rules store.RotationRules) (time.Duration, error) {
	if rules.AutomaticallyAfterDays == 0 && strings.TrimSpace(rules.ScheduleExpression) == "" {
		return 0, nil
	}
	s, err := schedule.Parse(rules)
	if err != nil {
		return 0, err
	}
	return s.MaxInterval()
}

// Window is the rotation window of rules, defaulted as CheckTTL says.
func Window(rules store.RotationRules, interval time.Duration) (time.Duration, error) {
	if d := strings.TrimSpace(rules.Duration); d != "" {
		return schedule.ParseWindow(d)
	}
	if interval < day {
		return time.Hour, nil
	}
	return day, nil
}

var (
	daysPattern     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)(\s*days?)?$`) })
	rateDaysPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^rate\(\s*(\d+)\s+days?\s*\)$`) })
)

// RulesFromOptions reads the rotation rules the engine passes in the
// options schedule (a ScheduleExpression or "N days") and window.
// rate(N days) reads as AutomaticallyAfterDays N, the same schedule: the
// engine writes AutomaticallyAfterDays that way, up to 1000 days, which
// rate(...) itself does not allow.
func RulesFromOptions(opts rotator.Options) (store.RotationRules, error) {
	var rules store.RotationRules
	s := strings.TrimSpace(opts.String(OptSchedule, ""))
	m := rateDaysPattern().FindStringSubmatch(s)
	switch {
	case s == "":
	case m == nil && (strings.HasPrefix(s, "rate(") || strings.HasPrefix(s, "cron(")):
		rules.ScheduleExpression = s
	default:
		if m == nil {
			m = daysPattern().FindStringSubmatch(s)
		}
		if m == nil {
			return rules, fmt.Errorf("option %s=%q: want rate(...), cron(...) or N days", OptSchedule, s)
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n <= 0 || n > 1000 {
			return rules, fmt.Errorf("option %s=%q: want 1 to 1000 days", OptSchedule, s)
		}
		rules.AutomaticallyAfterDays = n
	}
	rules.Duration = strings.TrimSpace(opts.String(OptWindow, ""))
	return rules, nil
}

// checkSchedule refuses to issue a token that expires before the next
// rotation can replace it.
func (r *Rotator) checkSchedule(req rotator.Request, log *slog.Logger) error {
	rules, err := RulesFromOptions(rotator.Merge(r.opts, req.Options))
	if err != nil {
		return permanent(err)
	}
	if rules.AutomaticallyAfterDays == 0 && rules.ScheduleExpression == "" {
		log.Info("rotation schedule unknown; the token lifetime is not checked against it", "ttl", r.cfg.ttl.String())
		return nil
	}
	if err := CheckTTL(r.cfg.ttl, rules); err != nil {
		return fmt.Errorf("refusing to issue a JFrog token that would expire before the next rotation: %w", err)
	}
	return nil
}

// FormatDuration writes d with days: 30d, 3d2h24m, 90m -> 1h30m.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / day; days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * day
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if s := d / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}
