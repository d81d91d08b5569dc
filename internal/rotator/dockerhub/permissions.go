package dockerhub

import (
	"errors"
	"slices"
	"strings"

	"github.com/rotorhq/rotor/internal/rotator"
)

// The statements of the kind, as rotor policy prints them.
const (
	// SidAccountSecret reads the secret account-secret names.
	SidAccountSecret = "ReadDockerHubAccount"
	// SidParameters reads the SSM parameters that hold the account's
	// credential and the seed's Slack webhook URL.
	SidParameters = "ReadDockerHubParameters"
	// SidParametersKey decrypts SecureString parameters encrypted with a
	// customer managed key (parameters-kms-key), through SSM only.
	SidParametersKey = "DecryptDockerHubParameters"
)

// OptParametersKMSKey is the customer managed KMS key of the SecureString
// parameters. Only rotor policy reads it: the SDK decrypts a parameter
// with whatever key encrypted it, and the AWS managed key aws/ssm needs no
// grant of the role's own.
const OptParametersKMSKey = "parameters-kms-key"

// permissions: GetSecretValue on account-secret, or ssm:GetParameter on
// the parameters the account credential and the Slack webhook URL are read
// from (with kms:Decrypt through SSM when their key is a customer managed
// one). The rotated token itself is the Secrets Manager grant every kind
// has; Docker Hub's API needs no AWS permission.
func permissions(req rotator.PermissionRequest) ([]rotator.Statement, error) {
	account := rotator.Statement{Sid: SidAccountSecret, Actions: []string{"secretsmanager:GetSecretValue"}}
	params := rotator.Statement{Sid: SidParameters, Actions: []string{"ssm:GetParameter"}}
	key := rotator.Statement{Sid: SidParametersKey, Actions: []string{"kms:Decrypt"}}
	if req.Every {
		account.Resources = []string{rotator.Placeholder("dockerhub-account-secret-arns")}
		params.Resources = []string{rotator.Placeholder("ssm-parameter-arns")}
		key.Resources = []string{rotator.Placeholder("parameters-kms-key-arn")}
		key.Condition = map[string]map[string]string{"StringEquals": {"kms:ViaService": rotator.Placeholder("ssm-service")}}
		return []rotator.Statement{account, params, key}, nil
	}
	if len(req.Secrets) == 0 {
		return nil, errors.New("the account credential's secret or parameters are relative to the rotated secrets' region and account: name at least one secret")
	}
	home := req.Secrets[0]
	env := envMap(req.Env)
	var out []rotator.Statement
	if id := req.Options.String(OptAccountSecret, ""); id != "" {
		account.Resources = []string{home.SecretARN(id)}
		out = append(out, account)
	} else {
		names := []string{req.Options.String(OptAccountPasswordParameter, env[EnvPassword])}
		if req.Options.String(OptAccountUsername, "") == "" {
			names = append(names, req.Options.String(OptAccountUsernameParameter, env[EnvUsername]))
		}
		if names[0] == "" {
			return nil, errors.New("no Docker Hub account credential: set the option " + OptAccountSecret + ", or " +
				OptAccountPasswordParameter + " (and " + OptAccountUsernameParameter + "), or the environment variables " +
				EnvUsername + " and " + EnvPassword + " as the function has them")
		}
		for _, n := range names {
			params.Resources = appendParameter(params.Resources, home, n)
		}
	}
	if n := env[EnvSlackWebhook]; n != "" {
		params.Resources = appendParameter(params.Resources, home, n)
	}
	if len(params.Resources) > 0 {
		out = append(out, params)
		if k := req.Options.String(OptParametersKMSKey, ""); k != "" {
			if _, err := rotator.ParseARN(k); err != nil {
				return nil, errors.New("option " + OptParametersKMSKey + ": " + err.Error())
			}
			key.Resources = []string{k}
			key.Condition = map[string]map[string]string{"StringEquals": {"kms:ViaService": "ssm." + home.Region + ".amazonaws.com"}}
			out = append(out, key)
		}
	}
	return out, nil
}

// appendParameter adds the ARN of the parameter name (a name, a /path/name
// or an ARN) unless it is there already.
func appendParameter(arns []string, home rotator.ARN, name string) []string {
	if name == "" {
		return arns
	}
	arn := name
	if !strings.HasPrefix(name, "arn:") {
		arn = home.In("ssm", home.Region, "parameter/"+strings.TrimPrefix(name, "/")).String()
	}
	if slices.Contains(arns, arn) {
		return arns
	}
	return append(arns, arn)
}
