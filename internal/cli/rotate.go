package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/scheduler"
	"github.com/rotorhq/rotor/internal/store"
)

func rotateCmd() *command {
	return &command{
		name:     "rotate",
		usage:    "(NAME | --due | --all) [--every 30d | --schedule EXPR] [--window 3h] [--option k=v ...] [--wait D]",
		summary:  "Run a whole rotation now, as RotateSecret does, and show the labels before and after.",
		logAudit: true,
		help: `
rotate creates the AWSPENDING version, runs createSecret, setSecret,
testSecret and finishSecret, then removes AWSPENDING: AWSCURRENT moves to the
new version and AWSPREVIOUS to the old one. An incomplete rotation (one that
failed or was interrupted) is resumed with its own version instead of
starting another. Rotation is enabled on the secret; --every, --schedule and
--window change its rules.

--due rotates every secret whose next rotation date has passed, and finishes
every incomplete rotation: run it from cron or a Kubernetes CronJob. --all
rotates every secret that has rotation enabled. Both go on past a failure
and report every failure at the end (exit code 1).

The audit events RotationStarted, RotationSucceeded, RotationFailed and
RotationAbandoned are logged on stderr; --log-level info shows every step.
Exit code 3 means another process is rotating the secret now.

With --store aws the service runs the rotation (RotateSecret invokes the
secret's rotation function, or a rotor server rotates in-process) and
rotate waits for it to finish, at most --wait (default 15m). A rotation
still running then is not stopped: rotate fails saying so, and
rotor status NAME shows its progress. --wait changes nothing for the
local store, where rotate runs the rotation itself.`,
		json: `
{"Rotations": [{"ARN", "Name", "VersionId" (now AWSCURRENT), "PreviousVersionId",
   "Resumed", "Revoked": [version ids], "DurationMs",
   "Before": {"<version id>": [labels]}, "After": {"<version id>": [labels]}}],
 "Failures": [{"Name", "Error"}]}`,
		examples: []string{
			"rotor rotate app/db-password",
			"rotor rotate app/db-password --every 30d --window 3h",
			"rotor rotate app/db-password --schedule 'cron(0 8 1 * ? *)'",
			"rotor rotate app/db-password --option length=64",
			"rotor rotate --due",
			"rotor --store aws rotate app/db-password --wait 30m",
		},
		setup: func(fs *flag.FlagSet) func(*runner, []string) error {
			var opts listFlag
			fs.Var(&opts, "option", "kind option `k=v` for this rotation only (repeatable); tag the secret rotor:k=v to keep it")
			every := fs.String("every", "", "rotate every `N`d (days, 1-1000), stored as AutomaticallyAfterDays")
			schedule := fs.String("schedule", "", "rotation schedule `EXPR`: rate(N hours|days) or cron(min hour dom month dow year), in UTC")
			window := fs.String("window", "", "rotation window `D` such as 3h, stored as the rules' Duration")
			due := fs.Bool("due", false, "rotate every secret that is due, and finish incomplete rotations")
			all := fs.Bool("all", false, "rotate every secret that has rotation enabled")
			token := fs.String("version-id", "", "the new version's `ID`; generated when empty")
			wait := fs.Duration("wait", engine.MaxWait, "with --store aws, how long `D` to wait for the service's rotation function to finish")
			return func(r *runner, args []string) error {
				o, err := optionArgs(opts)
				if err != nil {
					return err
				}
				if *wait <= 0 {
					return usagef("--wait must be positive, such as 15m")
				}
				batch := *due || *all
				switch {
				case *due && *all:
					return usagef("give --due or --all, not both")
				case batch && len(args) > 0:
					return usagef("--due and --all rotate many secrets: give no NAME")
				case batch && (*every != "" || *schedule != "" || *window != "" || *token != ""):
					return usagef("--every, --schedule, --window and --version-id apply to one secret: give NAME instead of --due/--all")
				case batch:
					return r.rotateBatch(*all, o, *wait)
				}
				if len(args) == 0 {
					return usageFor(r.cmd, "missing NAME: give the secret to rotate, or --due (every secret that is due) or --all (every secret with rotation enabled)")
				}
				if err := exactArgs("NAME")(args); err != nil {
					return usagef("%v", err)
				}
				return r.rotateOne(args[0], *token, *every, *schedule, *window, o, *wait)
			}
		},
	}
}

func optionArgs(args []string) (rotator.Options, error) {
	ps, err := pairs("--option", args)
	if err != nil {
		return nil, err
	}
	o := rotator.Options{}
	for _, p := range ps {
		o[p[0]] = p[1]
	}
	return o, nil
}

// rules merges the rule flags into the secret's current rules; nil when no
// flag is given.
func rules(cur store.RotationRules, every, schedule, window string) (*store.RotationRules, error) {
	if every == "" && schedule == "" && window == "" {
		return nil, nil
	}
	if every != "" && schedule != "" {
		return nil, usagef("give --every or --schedule, not both")
	}
	out := cur
	if every != "" {
		n, err := strconv.ParseInt(strings.TrimSuffix(every, "d"), 10, 64)
		if err != nil || n < 1 || n > 1000 {
			return nil, usagef("--every: want a number of days from 1 to 1000 such as 30d; for hours use --schedule 'rate(12 hours)'")
		}
		out.AutomaticallyAfterDays, out.ScheduleExpression = n, ""
	}
	if schedule != "" {
		if !strings.HasPrefix(schedule, "rate(") && !strings.HasPrefix(schedule, "cron(") {
			return nil, usagef("--schedule: want rate(N hours|days) or cron(minutes hours day-of-month month day-of-week year)")
		}
		out.ScheduleExpression, out.AutomaticallyAfterDays = schedule, 0
	}
	if window != "" {
		out.Duration = window
	}
	return &out, nil
}

// rotationJSON reports one rotation.
type rotationJSON struct {
	ARN        string              `json:"ARN"`
	Name       string              `json:"Name"`
	VersionID  string              `json:"VersionId"`
	PreviousID string              `json:"PreviousVersionId,omitempty"`
	Resumed    bool                `json:"Resumed"`
	Revoked    []string            `json:"Revoked"`
	DurationMs int64               `json:"DurationMs"`
	Before     map[string][]string `json:"Before"`
	After      map[string][]string `json:"After"`
}

type failureJSON struct {
	Name  string `json:"Name"`
	Error string `json:"Error"`
}

type rotateJSON struct {
	Rotations []rotationJSON `json:"Rotations"`
	Failures  []failureJSON  `json:"Failures"`
}

func (r *runner) rotateOne(name, token, every, schedule, window string, o rotator.Options, wait time.Duration) error {
	eng, err := r.engine()
	if err != nil {
		return err
	}
	st, _ := r.store()
	before, err := st.DescribeSecret(r.ctx, name)
	if err != nil {
		return r.explain("rotate", name, err)
	}
	ru, err := rules(before.RotationRules, every, schedule, window)
	if err != nil {
		return err
	}
	rot, err := r.rotate(eng, before, engine.RotateInput{SecretID: before.ARN, Token: token, Rules: ru, Options: o, Wait: wait})
	if err != nil {
		return r.explain("rotate", name, err)
	}
	return r.emitRotations(rotateJSON{Rotations: []rotationJSON{*rot}, Failures: []failureJSON{}})
}

// rotate runs one rotation and records the labels before and after.
func (r *runner) rotate(eng *engine.Engine, before *store.Description, in engine.RotateInput) (*rotationJSON, error) {
	res, err := eng.Rotate(r.ctx, in)
	r.recordRotation(before, res, err)
	if err != nil {
		return nil, err
	}
	st, _ := r.store()
	after, err := st.DescribeSecret(r.ctx, before.ARN)
	if err != nil {
		return nil, fmt.Errorf("rotated, but reading the result failed: %w", err)
	}
	out := &rotationJSON{ARN: res.ARN, Name: res.Name, VersionID: res.Token, PreviousID: res.Previous, Resumed: res.Resumed,
		Revoked: append([]string{}, res.Revoked...), DurationMs: res.Duration.Milliseconds(),
		Before: labelMap(before.VersionIDsToStages), After: labelMap(after.VersionIDsToStages)}
	return out, nil
}

// rotationRecorder is a store that records each rotation's outcome where
// its operators look: the kube store makes a Kubernetes Event on the Secret.
type rotationRecorder interface {
	RecordRotation(ctx context.Context, secretID, message string, failure error) error
}

// recordRotation tells a rotationRecorder store how a rotation ended. A
// failure to record is logged; it does not fail the rotation.
func (r *runner) recordRotation(before *store.Description, res *engine.Result, err error) {
	st, _ := r.store()
	rec, ok := st.(rotationRecorder)
	if !ok {
		return
	}
	msg := ""
	if err == nil && res != nil {
		msg = fmt.Sprintf("rotated by rotor: version %s is now AWSCURRENT", res.Token)
		if res.Previous != "" {
			msg += fmt.Sprintf(", version %s AWSPREVIOUS", res.Previous)
		}
		if res.Resumed {
			msg += " (resumed an incomplete rotation)"
		}
		if n := len(res.Revoked); n > 0 {
			msg += fmt.Sprintf("; revoked the credentials of %d older version(s)", n)
		}
	}
	if recErr := rec.RecordRotation(context.WithoutCancel(r.ctx), before.ARN, msg, err); recErr != nil {
		r.log.Warn("could not record the rotation's outcome", "secret", before.Name, "error", recErr)
	}
}

// labelMap keeps the versions that hold labels.
func labelMap(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for id, st := range m {
		if len(st) > 0 {
			out[id] = sortedLabels(st)
		}
	}
	return out
}

func (r *runner) emitRotations(j rotateJSON) error {
	return r.emit(j, func(w io.Writer) {
		if len(j.Rotations) == 0 && len(j.Failures) == 0 {
			fmt.Fprintln(w, "no secrets to rotate")
		}
		for i, rot := range j.Rotations {
			if i > 0 {
				fmt.Fprintln(w)
			}
			how := ""
			if rot.Resumed {
				how = " (resumed an incomplete rotation)"
			}
			fmt.Fprintf(w, "rotated %s: version %s is now AWSCURRENT%s\n", rot.Name, rot.VersionID, how)
			fmt.Fprintln(w, "VERSION\tBEFORE\tAFTER")
			for _, id := range versionsByLabel(unionByAfter(rot.After, rot.Before)) {
				fmt.Fprintf(w, "%s\t%s\t%s\n", id, labelsText(rot.Before[id]), labelsText(rot.After[id]))
			}
			for _, id := range rot.Revoked {
				fmt.Fprintf(w, "revoked the credential of version %s\n", id)
			}
		}
	})
}

// unionByAfter holds every version of after and before, with its labels
// after the rotation (none for a version that lost them all), so that
// versionsByLabel orders the table by the result.
func unionByAfter(after, before map[string][]string) map[string][]string {
	out := map[string][]string{}
	for id := range before {
		out[id] = nil
	}
	for id, l := range after {
		out[id] = l
	}
	return out
}

// rotateBatch rotates every due secret (or, with all, every secret with
// rotation enabled), going on past failures.
func (r *runner) rotateBatch(all bool, o rotator.Options, wait time.Duration) error {
	j, err := r.rotateDue(all, o, wait, nil)
	if emitErr := r.emitRotations(j); emitErr != nil {
		return emitErr
	}
	return err
}

// rotateDue is the work of rotate --due (and of the server's scheduler):
// the scheduler picks the due secrets, and each is rotated as rotor rotate
// does. wait bounds each wait for a remote rotation function; engine.MaxWait
// when zero. sched, when nil, is a scheduler of one rotation at a time
// without backoff (the command line's).
func (r *runner) rotateDue(all bool, o rotator.Options, wait time.Duration, sched *scheduler.Scheduler) (rotateJSON, error) {
	j := rotateJSON{Rotations: []rotationJSON{}, Failures: []failureJSON{}}
	eng, err := r.engine()
	if err != nil {
		return j, err
	}
	st, err := r.store()
	if err != nil {
		return j, err
	}
	var mu sync.Mutex
	rotate := func(ctx context.Context, d *store.Description) error {
		rr := *r
		rr.ctx = ctx
		// ListSecrets may omit the version map; read the secret itself.
		before, err := st.DescribeSecret(ctx, d.ARN)
		if err != nil {
			return err
		}
		if !all {
			// A kind whose credentials expire (ecr) refreshes them when
			// they near their expiry, not on every pass.
			if until, fresh, err := eng.FreshUntil(ctx, before, o); err != nil {
				return err
			} else if fresh {
				r.log.Debug("not due: the credentials are fresh", "secret", before.Name, "refresh_at", until.UTC().Format(time.RFC3339))
				return scheduler.ErrNotDue
			}
		}
		rot, err := rr.rotate(eng, before, engine.RotateInput{SecretID: d.ARN, Options: o, Wait: wait})
		if err != nil {
			return err
		}
		mu.Lock()
		j.Rotations = append(j.Rotations, *rot)
		mu.Unlock()
		return nil
	}
	if sched == nil {
		sched = scheduler.New(scheduler.Config{Store: st, Concurrency: 1, Now: r.now, Log: r.log, Later: r.rotatesLater})
	}
	type failed struct {
		name string
		err  error
	}
	var fails []failed
	n, err := sched.PassWith(r.ctx, all, rotate, func(res scheduler.Result) {
		if res.Err == nil {
			return
		}
		if res.Skipped {
			fails = append(fails, failed{res.Name, fmt.Errorf("rotate %s: %w", res.Name, res.Err)})
			j.Failures = append(j.Failures, failureJSON{Name: res.Name, Error: "interrupted"})
			return
		}
		e := r.explain("rotate", res.Name, res.Err)
		fails = append(fails, failed{res.Name, e})
		j.Failures = append(j.Failures, failureJSON{Name: res.Name, Error: e.Error()})
	})
	if err != nil {
		return j, r.explain("list secrets to rotate", "", err)
	}
	// Rotations may end in any order: report them by name.
	sort.SliceStable(j.Rotations, func(a, b int) bool { return j.Rotations[a].Name < j.Rotations[b].Name })
	sort.SliceStable(j.Failures, func(a, b int) bool { return j.Failures[a].Name < j.Failures[b].Name })
	if len(fails) > 0 {
		sort.SliceStable(fails, func(a, b int) bool { return fails[a].name < fails[b].name })
		errs := make([]error, len(fails))
		for i, f := range fails {
			errs[i] = f.err
		}
		return j, &batchError{errs: errs, total: n}
	}
	return j, nil
}

// rotatesLater: a pass rotates secrets of kinds that read other secrets
// (ecr's key-secret) after the others, so that they read what those
// rotations made current.
func (r *runner) rotatesLater(d *store.Description) bool {
	kind, ok := d.Tag(rotator.TagKind)
	if !ok {
		kind = rotator.FromEnv(r.app.Env)[rotator.OptKind]
	}
	k, err := r.registry().Lookup(kind)
	return err == nil && k.After
}

// batchError is the failures of a batch: each is reported on its own line.
type batchError struct {
	errs  []error
	total int
}

func (b *batchError) Error() string {
	return fmt.Sprintf("%d of %d rotations failed; fix the causes above and run the command again (it resumes them)", len(b.errs), b.total)
}

func (b *batchError) Unwrap() []error { return b.errs }

// lines is what report writes for err: one line per failure of a batch.
func lines(err error) []string {
	var b *batchError
	if errors.As(err, &b) {
		var out []string
		for _, e := range b.errs {
			out = append(out, oneLine(e.Error()))
		}
		return append(out, b.Error())
	}
	return []string{oneLine(err.Error())}
}
