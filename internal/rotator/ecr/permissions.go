package ecr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// Statement ids of the kind.
const (
	SidAuthorizationToken = "GetECRAuthorizationToken"
	SidKeySecret          = "ReadECRKeySecret"
)

// permissions: ecr:GetAuthorizationToken takes no resource but "*"; the
// key-secret, when the function reads one, is read with GetSecretValue.
// With key-secret ECR is called with that key, and the function's role
// needs no ECR permission.
func permissions(req rotator.PermissionRequest) ([]rotator.Statement, error) {
	token := rotator.Statement{Sid: SidAuthorizationToken, Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []string{"*"}}
	read := rotator.Statement{Sid: SidKeySecret, Actions: []string{"secretsmanager:GetSecretValue"}}
	if req.Every {
		read.Resources = []string{rotator.Placeholder("ecr-key-secret-arns")}
		return []rotator.Statement{token, read}, nil
	}
	if _, err := New(Deps{Secrets: noSecrets{}}, req.Options); err != nil {
		return nil, err
	}
	ks := req.Options.String(OptKeySecret, "")
	if ks == "" {
		return []rotator.Statement{token}, nil
	}
	switch {
	case len(req.Secrets) > 0:
		read.Resources = []string{req.Secrets[0].SecretARN(ks)}
	case strings.HasPrefix(ks, "arn:"):
		read.Resources = []string{ks}
	default:
		return nil, fmt.Errorf("option %s=%s is a name: give it as an ARN, or name the secrets it serves", OptKeySecret, ks)
	}
	return []rotator.Statement{read}, nil
}

// noSecrets stands in for the store when only the options are checked.
type noSecrets struct{}

func (noSecrets) ReadSecret(context.Context, string) (secret.Value, error) {
	return secret.Value{}, errors.New("no store")
}
