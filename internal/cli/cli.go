package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// Exit codes.
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitUsage      = 2
	ExitInProgress = 3
)

// Main runs rotor with args (without the program name) and returns the exit
// code. env is os.Environ()'s form; it is the only environment rotor reads.
func Main(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Env: env, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	return app.Run(ctx, args)
}

// App is one rotor process: its environment, its streams and the
// dependencies tests replace. The zero value of every optional field means
// the production default.
type App struct {
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Kinds builds the registry; the package's Kinds when nil.
	Kinds func(env []string, secrets SecretReader) *rotator.Registry
	// Stores maps --store names to openers; Stores() when nil.
	Stores map[string]StoreOpener
	// WrapStore, when set, wraps every store the app opens.
	WrapStore func(store.Store) store.Store
	// Now is the clock of the engine, the store and the scheduler.
	Now func() time.Time
	// KubeLockLease is the lease of the kube store's rotation locks: how
	// long a lock outlives a holder that died; kube.LeaseDuration when 0.
	KubeLockLease time.Duration
	// Listening, when set, is told the address `rotor server` listens on.
	Listening func(addr string)
	// MetricsListening, when set, is told the metrics listener's address.
	MetricsListening func(addr string)
}

// globals are the flags every command accepts, before or after its name.
type globals struct {
	store      string
	storePath  string
	output     string
	logLevel   string
	logFormat  string
	endpoint   string
	kubeconfig string
	namespace  string
	auditLog   string
}

func (g *globals) register(fs *flag.FlagSet, env map[string]string) {
	fs.StringVar(&g.store, "store", envOr(env, "ROTOR_STORE", "local"), "secret store: local (an encrypted file), aws (AWS Secrets Manager, or a rotor server, with the standard AWS environment: AWS_REGION, credentials, AWS_ENDPOINT_URL_SECRETS_MANAGER) or kube (Kubernetes Secrets of one namespace); env ROTOR_STORE")
	fs.StringVar(&g.kubeconfig, "kubeconfig", "", "with --store kube: the kubeconfig `FILE` (default $KUBECONFIG, ~/.kube/config, or the pod's service account in a cluster)")
	fs.StringVar(&g.namespace, "namespace", env[KubeNamespaceEnv], "with --store kube: the `NAMESPACE` of the Secrets; env "+KubeNamespaceEnv+" (default the kubeconfig context's, or the pod's)")
	fs.StringVar(&g.storePath, "store-path", env["ROTOR_STORE_PATH"], "file of the local store; env ROTOR_STORE_PATH (default $XDG_DATA_HOME/rotor/store.db)")
	fs.StringVar(&g.output, "output", envOr(env, "ROTOR_OUTPUT", "table"), "output format: table or json")
	fs.StringVar(&g.output, "o", envOr(env, "ROTOR_OUTPUT", "table"), "short for --output")
	fs.StringVar(&g.logLevel, "log-level", env["ROTOR_LOG_LEVEL"], "log level: debug, info, warn or error (default warn; info for rotate, step, cancel and server)")
	fs.StringVar(&g.logFormat, "log-format", envOr(env, "ROTOR_LOG_FORMAT", "text"), "log format on stderr: text or json")
	fs.StringVar(&g.auditLog, "audit-log", env["ROTOR_AUDIT_LOG"], "append audit events (JSON lines, schema rotor.audit/v1) to `FILE`, or - for stderr; env ROTOR_AUDIT_LOG")
	fs.StringVar(&g.endpoint, "endpoint-url", "", "with --store aws: the Secrets Manager endpoint, such as a rotor server's http://127.0.0.1:8200 (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, or AWS's own)")
}

func (g *globals) check() error {
	if g.endpoint != "" && g.store != "aws" {
		return usagef("--endpoint-url applies to --store aws only (the local store has no endpoint): add --store aws, or drop --endpoint-url")
	}
	if (g.kubeconfig != "" || g.namespace != "") && g.store != "kube" {
		return usagef("--kubeconfig and --namespace (or $%s) apply to --store kube only: add --store kube, or drop them", KubeNamespaceEnv)
	}
	switch g.output {
	case "table", "json":
	default:
		return usagef("--output (or $ROTOR_OUTPUT): want table or json")
	}
	switch g.logFormat {
	case "text", "json":
	default:
		return usagef("--log-format (or $ROTOR_LOG_FORMAT): want text or json")
	}
	if g.logLevel != "" {
		if _, err := parseLevel(g.logLevel); err != nil {
			return err
		}
	}
	return nil
}

func envOr(env map[string]string, key, def string) string {
	if v := env[key]; v != "" {
		return v
	}
	return def
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Run runs the command in args and returns the exit code. A panic (a bug,
// in rotor or in a kind) is reported as one line and exit code 1; its value
// is printed with %v, which secret.Value redacts.
func (a *App) Run(ctx context.Context, args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(a.Stderr, "rotor: internal error: %s; please report it\n", oneLine(fmt.Sprintf("%v", p)))
			code = ExitFailure
		}
	}()
	if a.Stdin == nil {
		a.Stdin = strings.NewReader("")
	}
	if a.Stdout == nil {
		a.Stdout = io.Discard
	}
	if a.Stderr == nil {
		a.Stderr = io.Discard
	}
	err := a.run(ctx, args)
	return a.report(err)
}

// report writes err as one line on stderr and returns its exit code.
func (a *App) report(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	for _, l := range lines(err) {
		fmt.Fprintf(a.Stderr, "rotor: %s\n", l)
	}
	return exitCode(err)
}

func (a *App) run(ctx context.Context, args []string) error {
	env := envMap(a.Env)
	var g globals
	top := flag.NewFlagSet("rotor", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	g.register(top, env)
	top.Usage = func() {}
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeTopHelp(a.Stdout)
			return flag.ErrHelp
		}
		return usagef("%s", flagError(err))
	}
	rest := top.Args()
	rest = lambdaArgs(rest, env) // Lambda starts a bootstrap without arguments
	if len(rest) == 0 {
		writeTopHelp(a.Stderr)
		return usagef("no command given")
	}
	name, rest := rest[0], rest[1:]
	cmd := lookup(name)
	if cmd == nil {
		return usagef("unknown command: want one of %s", strings.Join(commandNames(), ", "))
	}
	fs := flag.NewFlagSet("rotor "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	runFn := cmd.setup(fs)
	// The values parsed before the command stay unless repeated after it.
	before := map[string]string{}
	top.Visit(func(f *flag.Flag) { before[f.Name] = f.Value.String() })
	g.register(fs, env)
	for name, v := range before {
		_ = fs.Set(name, v)
	}
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeCommandHelp(a.Stdout, cmd)
			return flag.ErrHelp
		}
		return usageFor(cmd, "%s", flagError(err))
	}
	if err := g.check(); err != nil {
		return err
	}
	if cmd.args != nil {
		if err := cmd.args(pos); err != nil {
			return usageFor(cmd, "%v", err)
		}
	}
	r := &runner{app: a, ctx: ctx, g: g, env: env, cmd: cmd, stdout: a.Stdout, stderr: a.Stderr}
	defer r.close()
	if err := r.setupLog(); err != nil {
		return err
	}
	return runFn(r, pos)
}

// runner is the state of one command invocation.
type runner struct {
	app    *App
	ctx    context.Context
	g      globals
	env    map[string]string
	cmd    *command
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger

	st      store.Store
	closeSt func() error
	// auditTo, when set, also receives the engine's audit events (the
	// server's timeline); auditW and auditF are --audit-log's file.
	auditTo audit.Sink
	auditW  *audit.Writer
	auditF  *os.File
	kinds   *rotator.Registry
}

func (r *runner) now() time.Time {
	if r.app.Now != nil {
		return r.app.Now()
	}
	return time.Now()
}

func (r *runner) registry() *rotator.Registry {
	if r.kinds == nil {
		k := r.app.Kinds
		if k == nil {
			k = Kinds
		}
		r.kinds = k(r.app.Env, r)
	}
	return r.kinds
}

// store opens the selected store once per invocation.
func (r *runner) store() (store.Store, error) {
	if r.st != nil {
		return r.st, nil
	}
	stores := r.app.Stores
	if stores == nil {
		stores = Stores()
	}
	open, ok := stores[r.g.store]
	if !ok {
		names := make([]string, 0, len(stores))
		for n := range stores {
			names = append(names, n)
		}
		return nil, usagef("--store (or $ROTOR_STORE): want one of %s", strings.Join(sortedStrings(names), ", "))
	}
	st, closeFn, err := open(r.ctx, StoreConfig{Path: r.g.storePath, Endpoint: r.g.endpoint,
		Kubeconfig: r.g.kubeconfig, Namespace: r.g.namespace, Env: r.env, Logger: r.log, Now: r.app.Now, KubeLockLease: r.app.KubeLockLease})
	if err != nil {
		msg := userMessage(err)
		if (errors.Is(err, store.ErrDecryptionFailure) || errors.Is(err, store.ErrEncryptionFailure)) && !strings.Contains(msg, "ROTOR_STORE_KEY") {
			msg += ": check ROTOR_STORE_KEY or the key file beside the store: it must be the key the store was created with"
		}
		return nil, &failure{msg: msg, err: err}
	}
	if r.app.WrapStore != nil {
		st = r.app.WrapStore(st)
	}
	r.st, r.closeSt = st, closeFn
	return st, nil
}

// engine returns an engine over the selected store.
func (r *runner) engine() (*engine.Engine, error) {
	st, err := r.store()
	if err != nil {
		return nil, err
	}
	return engine.New(engine.Config{
		Store:    st,
		Kinds:    r.registry(),
		Defaults: rotator.FromEnv(r.app.Env),
		Logger:   r.log,
		Now:      r.app.Now,
		Notify:   notifier(r.app.Env, r.log),
		Audit:    audit.Tee(r.auditFile(), r.auditTo),
	}), nil
}

// auditFile is the sink of --audit-log: the file, opened once for append
// (mode 0600), or stderr for "-". An unusable file is logged, once, and
// the command goes on: the logs carry the same facts.
func (r *runner) auditFile() audit.Sink {
	switch r.g.auditLog {
	case "":
		return nil
	case "-":
		return audit.NewWriter(r.stderr).Sink()
	}
	if r.auditW == nil {
		f, err := os.OpenFile(r.g.auditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			r.log.Error("cannot open the audit log; no audit events are written", "path", r.g.auditLog, "error", err)
			r.g.auditLog = ""
			return nil
		}
		r.auditW, r.auditF = audit.NewWriter(f), f
	}
	return r.auditW.Sink()
}

func (r *runner) close() {
	if r.auditF != nil {
		_ = r.auditF.Close()
	}
	if r.closeSt != nil {
		if err := r.closeSt(); err != nil {
			r.log.Warn("closing the store failed", "error", err)
		}
	}
}
