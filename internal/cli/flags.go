package cli

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// parseInterspersed parses fs from args, allowing flags after positional
// arguments (rotor get NAME -o json) as most CLIs do. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// invalidFlagValue matches the flag package's errors that quote the value
// given: `invalid value "v" for flag -name: why` and `invalid boolean value
// "v" for -name: why`.
var invalidFlagValue = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^invalid (?:boolean )?value ".*" for (?:flag )?-(\S+): (.*)$`)
})

// flagError is a flag parsing error without the value given, which may be
// a secret put in the wrong place (--value-stdin=hunter2). It names the
// flag only.
func flagError(err error) string {
	msg := err.Error()
	if m := invalidFlagValue().FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("invalid value for --%s: %s", m[1], m[2])
	}
	if strings.HasPrefix(msg, "bad flag syntax") { // the whole argument follows
		return "bad flag syntax: an argument starts with '-' but is no flag (put -- before arguments that start with '-')"
	}
	return msg
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// pairs splits key=value arguments; what names them in errors. The
// argument is not shown in the error: a tag or an option may hold a secret
// (rotor:notify-webhook-secret=...).
func pairs(what string, args []string) ([][2]string, error) {
	out := make([][2]string, 0, len(args))
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("%s wants key=value: argument %d has no '=' or an empty key", what, i+1)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// usageError is a mistake on the command line; it exits with ExitUsage.
type usageError struct {
	msg string
	cmd string // the command whose help explains it, if any
}

func (e *usageError) Error() string {
	if e.cmd != "" {
		return fmt.Sprintf("%s: run `rotor help %s` for usage", e.msg, e.cmd)
	}
	return e.msg + ": run `rotor help` for usage"
}

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func usageFor(c *command, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: c.name}
}

// exactArgs and friends check positional arguments. An unexpected argument
// is named by its position, not shown: it may be a value put in the wrong
// place.
func exactArgs(names ...string) func([]string) error {
	return func(args []string) error {
		if len(args) < len(names) {
			return fmt.Errorf("missing %s", strings.Join(names[len(args):], " "))
		}
		if len(args) > len(names) {
			return unexpectedArg(len(names))
		}
		return nil
	}
}

// unexpectedArg is the error of an argument beyond the first n.
func unexpectedArg(n int) error {
	if n == 0 {
		return errors.New("unexpected argument: this command takes none")
	}
	return fmt.Errorf("unexpected argument %d: this command takes no more than %d", n+1, n)
}

// errValueArgument is the error of an extra argument to a command that
// takes a secret value: the argument is not shown, for it may be the value.
var errValueArgument = errors.New("unexpected extra argument; values are read from --value-stdin or --value-file")

// valueArgs is exactArgs for commands that take a secret value.
func valueArgs(names ...string) func([]string) error {
	return func(args []string) error {
		if len(args) > len(names) {
			return errValueArgument
		}
		return exactArgs(names...)(args)
	}
}

func atLeastArgs(names ...string) func([]string) error {
	return func(args []string) error {
		if len(args) < len(names) {
			return fmt.Errorf("missing %s", strings.Join(names[len(args):], " "))
		}
		return nil
	}
}

func maxArgs(n int) func([]string) error {
	return func(args []string) error {
		if len(args) > n {
			return unexpectedArg(n)
		}
		return nil
	}
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
