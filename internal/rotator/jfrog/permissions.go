package jfrog

import (
	"errors"

	"github.com/rotorhq/rotor/internal/rotator"
)

// SidAdminToken is the statement that lets the function read the secret an
// admin token is kept in (admin-token-secret).
const SidAdminToken = "ReadJFrogAdminToken"

// permissions: the IAM role exchange signs STS GetCallerIdentity, which
// every principal may call, so it needs nothing but the role itself; an
// admin token kept in another secret needs GetSecretValue on that secret.
func permissions(req rotator.PermissionRequest) ([]rotator.Statement, error) {
	stmt := rotator.Statement{Sid: SidAdminToken, Actions: []string{"secretsmanager:GetSecretValue"}}
	if req.Every {
		stmt.Resources = []string{rotator.Placeholder("admin-token-secret-arns")}
		return []rotator.Statement{stmt}, nil
	}
	id := req.Options.String(OptAdminTokenSecret, "")
	if id == "" {
		return nil, nil
	}
	if len(req.Secrets) == 0 {
		return nil, errors.New("option " + OptAdminTokenSecret + " names a secret relative to the rotated secrets' region and account: name at least one secret")
	}
	stmt.Resources = []string{req.Secrets[0].SecretARN(id)}
	return []rotator.Statement{stmt}, nil
}
