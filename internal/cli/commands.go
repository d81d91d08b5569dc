package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand: its documentation, its argument check and
// setup, which registers its flags and returns the function that runs it.
type command struct {
	name     string
	usage    string // after "rotor NAME "
	summary  string
	help     string
	json     string // the fields of --output json
	examples []string
	hidden   bool
	logInfo  bool // log at info level by default
	logAudit bool // log the audit events (and warnings) by default
	args     func([]string) error
	setup    func(fs *flag.FlagSet) func(r *runner, args []string) error
}

// commands is the command table, in the order help lists it.
func commands() []*command {
	return []*command{
		createCmd(), getCmd(), putCmd(), describeCmd(), listCmd(), historyCmd(),
		deleteCmd(), restoreCmd(), tagCmd(), untagCmd(),
		rotateCmd(), stepCmd(), cancelCmd(), statusCmd(), kindsCmd(), jfrogCmd(), policyCmd(),
		serverCmd(), lambdaCommand(), versionCmd(), helpCmd(),
	}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		if !c.hidden {
			names = append(names, c.name)
		}
	}
	return names
}

func writeTopHelp(w io.Writer) {
	fmt.Fprint(w, `rotor rotates credentials with the protocol of AWS Secrets Manager
(versions, staging labels AWSCURRENT/AWSPREVIOUS/AWSPENDING and the four
rotation steps) on an embedded encrypted store or on Secrets Manager itself.

Usage: rotor [global flags] <command> [flags] [arguments]

Commands:
`)
	tw := newTab(w)
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
	}
	_ = tw.Flush()
	fmt.Fprint(w, "\nGlobal flags (accepted before or after the command):\n")
	printFlags(w, globalFlagSet())
	fmt.Fprint(w, `
Exit codes: 0 success, 1 failure, 2 usage error, 3 rotation already in progress.
Only "rotor get" prints secret values. Run "rotor help <command>" for details.
`)
}

func writeCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: rotor %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	fmt.Fprint(w, "\nGlobal flags: --store, --store-path, --endpoint-url, -o/--output, --log-level, --log-format (see rotor help).\n")
	if c.json != "" {
		fmt.Fprintf(w, "\nJSON output (-o json):\n%s\n", indent(strings.TrimSpace(c.json), "  "))
	}
	if len(c.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func globalFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("rotor", flag.ContinueOnError)
	var g globals
	g.register(fs, nil)
	return fs
}

// printFlags lists fs's flags GNU-style (--name), skipping one-letter
// aliases of long flags.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 && strings.HasPrefix(f.Usage, "short for") {
			return
		}
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

func helpCmd() *command {
	return &command{
		name:    "help",
		usage:   "[command]",
		summary: "Show help for rotor or for one command.",
		args:    maxArgs(1),
		setup: func(*flag.FlagSet) func(*runner, []string) error {
			return func(r *runner, args []string) error {
				if len(args) == 0 {
					writeTopHelp(r.stdout)
					return nil
				}
				c := lookup(args[0])
				if c == nil {
					return usagef("unknown command: want one of %s", strings.Join(commandNames(), ", "))
				}
				writeCommandHelp(r.stdout, c)
				return nil
			}
		},
	}
}
