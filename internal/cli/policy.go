package cli

import (
	"flag"
	"slices"
	"strings"

	"github.com/rotorhq/rotor/internal/policy"
	"github.com/rotorhq/rotor/internal/rotator"
)

func policyCmd() *command {
	return &command{
		name:    "policy",
		usage:   "--kind K[,K...] --secret-arn [KIND=]ARN ... [--option k=v ...] [--kms-key-arn ARN] [--function-name F] [--format iam|terraform|cloudformation]",
		summary: "Print the least-privilege IAM policy of the rotation function's role.",
		help: `
The policy allows the Secrets Manager calls of a rotation (DescribeSecret,
GetSecretValue, PutSecretValue, UpdateSecretVersionStage) on the named
secrets only, what each kind calls (IAM on the users whose keys it rotates,
the secret a JFrog admin token is kept in), the secrets' KMS key, the
notification channels (SNS, SES), and the function's log group.

With several kinds, give each secret's kind: --secret-arn KIND=ARN. An ARN
may end in -?????? to match a secret by name whatever the suffix Secrets
Manager appended. Kind and notification options are read as the function
reads them: ROTOR_<OPTION> in the environment, or --option (for example
--option user=alice, --option admin-token-secret=jfrog/admin,
--option notify-sns-topic=ARN). iam-access-key derives each user from the
secret's name (user-pattern) unless user is set.

--format iam prints a policy document (aws iam put-role-policy);
terraform an aws_iam_policy_document data source; cloudformation the
Policies of an AWS::IAM::Role.`,
		examples: []string{
			"rotor policy --kind password --secret-arn 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db-??????'",
			"rotor policy --kind jfrog,iam-access-key --secret-arn jfrog=arn:aws:secretsmanager:eu-central-1:123456789012:secret:jfrog/access-token-AbCdEf --secret-arn iam-access-key=arn:aws:secretsmanager:eu-central-1:123456789012:secret:access-key/alice-AbCdEf --format terraform",
		},
		args: maxArgs(0),
		setup: func(fs *flag.FlagSet) func(*runner, []string) error {
			var kinds, secrets, opts listFlag
			fs.Var(&kinds, "kind", "the kinds `K[,K...]` the function serves (repeatable)")
			fs.Var(&secrets, "secret-arn", "`[KIND=]ARN` of a secret the function rotates (repeatable); the kind is needed with several kinds")
			fs.Var(&opts, "option", "kind or notification option `k=v` (repeatable), over ROTOR_<OPTION> from the environment")
			kms := fs.String("kms-key-arn", "", "`ARN` of the secrets' customer managed KMS key, if any")
			fn := fs.String("function-name", policy.DefaultFunctionName, "the function's `NAME`, for its log group")
			format := fs.String("format", policy.FormatIAM, "output `FORMAT`: "+strings.Join(policy.Formats, ", "))
			return func(r *runner, _ []string) error {
				return r.printPolicy(kinds, secrets, opts, *kms, *fn, *format)
			}
		},
	}
}

func (r *runner) printPolicy(kindArgs, secretArgs, optArgs []string, kms, fn, format string) error {
	if !slices.Contains(policy.Formats, format) {
		return usagef("--format: want one of %s", strings.Join(policy.Formats, ", "))
	}
	reg := r.registry()
	var kinds []string
	for _, arg := range kindArgs {
		for k := range strings.SplitSeq(arg, ",") {
			k = strings.TrimSpace(k)
			if _, err := reg.Lookup(k); err != nil {
				return usagef("--kind: want kinds among %s", strings.Join(reg.Names(), ", "))
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		return usagef("--kind: name the kinds the function serves (%s)", strings.Join(reg.Names(), ", "))
	}
	if len(secretArgs) == 0 {
		return usagef("--secret-arn: name the secrets the function rotates, so that the role reaches those only")
	}
	secrets := map[string][]string{}
	for i, arg := range secretArgs {
		kind, arn, ok := strings.Cut(arg, "=")
		if !ok {
			if len(kinds) > 1 {
				return usagef("--secret-arn %d: with several kinds, say each secret's kind: --secret-arn KIND=ARN", i+1)
			}
			kind, arn = kinds[0], arg
		}
		if !slices.Contains(kinds, kind) {
			return usagef("--secret-arn %d: its kind is not among --kind", i+1)
		}
		secrets[kind] = append(secrets[kind], arn)
	}
	opts, err := optionArgs(optArgs)
	if err != nil {
		return err
	}
	doc, err := policy.Build(reg, policy.Request{
		Kinds:        kinds,
		Secrets:      secrets,
		Options:      rotator.Merge(rotator.FromEnv(r.app.Env), opts),
		Env:          r.app.Env,
		KMSKeyARN:    kms,
		FunctionName: fn,
	})
	if err != nil {
		return usagef("%s", userMessage(err))
	}
	out, err := doc.Write(format)
	if err != nil {
		return err
	}
	_, err = r.stdout.Write(out)
	return err
}
