package lambda

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/awssm"
)

// newLogger returns the JSON logger of the function. The level is
// ROTOR_LOG_LEVEL, else the one Lambda's advanced logging controls set in
// AWS_LAMBDA_LOG_LEVEL, else info.
func newLogger(env map[string]string, w io.Writer) (*slog.Logger, error) {
	name, v := "ROTOR_LOG_LEVEL", env["ROTOR_LOG_LEVEL"]
	if v == "" {
		name, v = "AWS_LAMBDA_LOG_LEVEL", env["AWS_LAMBDA_LOG_LEVEL"]
	}
	var level slog.Level
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "info":
		level = slog.LevelInfo
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error", "fatal":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("%s=%q: want debug, info, warn or error", name, v)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// openStore opens Secrets Manager with the standard AWS configuration of the
// function: its role's credentials and AWS_REGION, which Lambda sets, and
// the endpoint settings of the SDK (AWS_ENDPOINT_URL_SECRETS_MANAGER).
func openStore(ctx context.Context, env map[string]string, logger *slog.Logger) (store.Store, error) {
	region := env["AWS_REGION"]
	if region == "" {
		region = env["AWS_DEFAULT_REGION"]
	}
	awsCfg, err := awssm.LoadAWSConfig(ctx, region, "")
	if err != nil {
		return nil, fmt.Errorf("secrets manager: %w", err)
	}
	metrics.AWSCalls(&awsCfg)
	st, err := awssm.New(awssm.Config{AWS: awsCfg, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("secrets manager: %w", err)
	}
	return st, nil
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
