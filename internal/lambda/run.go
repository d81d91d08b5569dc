package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/store"
)

// RuntimeAPIEnv is set by Lambda in every execution environment: the address
// of the Runtime API the function polls for events.
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// ErrNotInLambda is returned by Run outside a Lambda execution environment;
// the CLI reports it as a usage error (exit code 2).
var ErrNotInLambda = errors.New(RuntimeAPIEnv + " is not set: `rotor lambda` runs inside AWS Lambda (as the bootstrap of a provided.al2023 function or a container image); to rotate from a shell use `rotor rotate --store aws`")

// shutdownGrace bounds how long Run waits for steps in flight once its
// context ends.
const shutdownGrace = 2 * time.Second

// Config is what Run needs. Env and Kinds are required.
type Config struct {
	// Env is the process environment, os.Environ()'s form: AWS_REGION,
	// AWS_LAMBDA_RUNTIME_API, ROTOR_LOG_LEVEL (else AWS_LAMBDA_LOG_LEVEL)
	// and the ROTOR_<OPTION> defaults are read from it.
	Env []string
	// Kinds are the credential kinds the function can rotate.
	Kinds *rotator.Registry
	// Defaults are the lowest layer of every secret's options; when nil,
	// the ROTOR_<OPTION> variables of Env other than rotor's own settings.
	Defaults rotator.Options
	// Notify, when set, is given to the engine (rotation outcomes).
	Notify func(context.Context, engine.Notice)
	// Store, when set, replaces Secrets Manager (tests).
	Store store.Store
	// Stdout receives the JSON logs, which Lambda ships to CloudWatch.
	Stdout io.Writer
	// HTTPClient posts an init error to the Runtime API; a client with a
	// short timeout when nil.
	HTTPClient *http.Client
}

// Run builds the engine over Secrets Manager and serves rotation events with
// aws-lambda-go (lambda.StartWithOptions, with ctx as every step's base
// context) until ctx ends. A configuration error is posted to the Runtime
// API's init/error, so the invocation that started the function fails with
// it, and returned. If the Runtime API itself fails, aws-lambda-go ends the
// process (log.Fatalf) and Lambda starts a new one: that is its contract.
func Run(ctx context.Context, cfg Config) error {
	env := envMap(cfg.Env)
	api := env[RuntimeAPIEnv]
	if api == "" {
		return ErrNotInLambda
	}
	if got := os.Getenv(RuntimeAPIEnv); got != api {
		// aws-lambda-go reads the process environment itself.
		return fmt.Errorf("%s is %q in the configuration but %q in the process environment: they must agree", RuntimeAPIEnv, api, got)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	logger, err := newLogger(env, cfg.Stdout)
	if err == nil {
		err = checkConfig(cfg)
	}
	var st store.Store
	if err == nil {
		if st = cfg.Store; st == nil {
			st, err = openStore(ctx, env, logger)
		}
	}
	if err != nil {
		if logger == nil {
			logger = slog.New(slog.NewJSONHandler(cfg.Stdout, nil))
		}
		logger.Error("rotor cannot start", "error", err)
		if perr := postInitError(ctx, cfg.HTTPClient, api, err); perr != nil {
			logger.Error("reporting the init error to the Runtime API failed", "error", perr)
		}
		return err
	}
	defaults := cfg.Defaults
	if defaults == nil {
		defaults = rotator.FromEnv(cfg.Env)
	}
	// Audit events go to the function's log stream beside the logs, one
	// JSON object a line with "schema":"rotor.audit/v1" to filter on, and
	// their figures as CloudWatch embedded-metric-format lines.
	eng := engine.New(engine.Config{Store: st, Kinds: cfg.Kinds, Defaults: defaults, Logger: logger, Notify: cfg.Notify,
		Audit: audit.Tee(audit.NewWriter(cfg.Stdout).Sink(), metrics.EMFSink(cfg.Stdout))})
	// Calls to AWS and the kinds' services, as EMF lines too.
	metrics.OnCall(metrics.EMFCalls(cfg.Stdout, time.Now))
	defer metrics.OnCall(nil)

	// aws-lambda-go logs a failed invocation's error document with the
	// standard logger: keep that line pure JSON, on the same stream.
	log.SetFlags(0)
	log.SetOutput(cfg.Stdout)
	logger.Info("rotor rotation function ready", "kinds", cfg.Kinds.Names(),
		"function", env["AWS_LAMBDA_FUNCTION_NAME"], "region", env["AWS_REGION"])

	var inflight tracker
	h := Handler(eng, logger)
	serve := func(ctx context.Context, ev Event) error {
		if !inflight.enter() {
			return messages.InvokeResponse_Error{Type: typeShuttingDown, Message: "the function is shutting down; Secrets Manager retries the step"}
		}
		defer inflight.leave()
		if err := h(ctx, ev); err != nil {
			// Lambda records errorType and errorMessage as they are given.
			return messages.InvokeResponse_Error{Type: ErrorType(err), Message: err.Error()}
		}
		return nil
	}
	go awslambda.StartWithOptions(serve, awslambda.WithContext(ctx))

	<-ctx.Done()
	logger.Info("rotor rotation function shutting down")
	select {
	case <-inflight.stop():
	case <-time.After(shutdownGrace):
		logger.Warn("a rotation step was still running at shutdown; Secrets Manager retries it")
	}
	return nil
}

func checkConfig(cfg Config) error {
	if cfg.Kinds == nil || len(cfg.Kinds.Names()) == 0 {
		return errors.New("no credential kinds are registered: this build of rotor cannot rotate anything")
	}
	return nil
}

// postInitError tells the Runtime API that the function could not start.
func postInitError(ctx context.Context, client *http.Client, api string, cause error) error {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	body, _ := json.Marshal(messages.InvokeResponse_Error{Type: TypeConfigError, Message: cause.Error()})
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost,
		"http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", TypeConfigError)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /runtime/init/error answered %s", resp.Status)
	}
	return nil
}

// tracker counts the steps in flight so that shutdown can wait for them.
type tracker struct {
	mu       sync.Mutex
	n        int
	stopping bool
	idle     chan struct{}
}

// enter counts a step in, unless shutdown has begun.
func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopping {
		return false
	}
	t.n++
	return true
}

func (t *tracker) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

// stop refuses new steps and returns a channel closed once none is in flight.
func (t *tracker) stop() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopping = true
	ch := make(chan struct{})
	if t.n == 0 {
		close(ch)
	} else {
		t.idle = ch
	}
	return ch
}
