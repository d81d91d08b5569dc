package cli

import (
	"errors"
	"flag"

	"github.com/rotorhq/rotor/internal/lambda"
	"github.com/rotorhq/rotor/internal/rotator"
)

// lambdaCommand runs rotor as an AWS Lambda rotation function
// (internal/lambda). It owns its logging: JSON lines on stdout, which Lambda
// ships to CloudWatch.
func lambdaCommand() *command {
	return &command{
		name:    "lambda",
		summary: "Run as an AWS Lambda rotation function for Secrets Manager.",
		help: `Serves Secrets Manager's rotation events (createSecret, setSecret,
testSecret, finishSecret) through the Lambda Runtime API. Lambda starts the
binary as the bootstrap of a provided.al2023 function, or as a container
image's command; with AWS_LAMBDA_RUNTIME_API set and no command, rotor runs
this command by itself.

The kind of each secret and its options come from its rotor:* tags, over
defaults from the function's ROTOR_<OPTION> variables. Logs are JSON on
stdout; the level is ROTOR_LOG_LEVEL, else AWS_LAMBDA_LOG_LEVEL, else info.
Secrets Manager is reached with the function's role, in AWS_REGION.`,
		logInfo:  true,
		args:     maxArgs(0),
		examples: []string{"rotor lambda   # as the function's command, with the Lambda runtime API"},
		setup: func(*flag.FlagSet) func(*runner, []string) error {
			return func(r *runner, _ []string) error {
				// The function rotates secrets in Secrets Manager, so the
				// secrets kinds read beside them (masterarn, account-secret,
				// admin-token-secret) come from there too, not from
				// --store's default.
				r.g.store = "aws"
				err := lambda.Run(r.ctx, lambda.Config{Env: r.app.Env, Kinds: r.registry(),
					Defaults: rotator.FromEnv(r.app.Env), Stdout: r.stdout, Notify: notifier(r.app.Env, r.log)})
				if errors.Is(err, lambda.ErrNotInLambda) {
					return usagef("%v", err)
				}
				return err
			}
		},
	}
}

// lambdaArgs makes `lambda` the command when Lambda starts the binary
// without one, as it does a bootstrap.
func lambdaArgs(args []string, env map[string]string) []string {
	if len(args) == 0 && env[lambda.RuntimeAPIEnv] != "" {
		return []string{"lambda"}
	}
	return args
}
