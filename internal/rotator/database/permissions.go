package database

import (
	"errors"

	"github.com/rotorhq/rotor/internal/rotator"
)

// SidMasterSecrets reads the master secrets of alternating-users.
const SidMasterSecrets = "ReadDatabaseMasterSecrets"

// OptMasterSecret names the secret the values' masterarn points at, for
// rotor policy only: a rotation reads masterarn from the value itself.
const OptMasterSecret = "master-secret"

// permissions: nothing for single-user (the database is reached with the
// rotated credential, which needs no AWS permission beyond the rotation's
// own); GetSecretValue on the masterarn secret for alternating-users.
func permissions(req rotator.PermissionRequest) ([]rotator.Statement, error) {
	st := rotator.Statement{Sid: SidMasterSecrets, Actions: []string{"secretsmanager:GetSecretValue"}}
	if req.Every {
		st.Resources = []string{rotator.Placeholder("database-master-secret-arns")}
		return []rotator.Statement{st}, nil
	}
	if req.Options.String(OptStrategy, SingleUser) != AlternatingUsers || len(req.Secrets) == 0 {
		// A function serving postgres and mysql secrets shares its
		// options between them: a kind with none of the secrets needs nothing.
		return nil, nil
	}
	id := req.Options.String(OptMasterSecret, "")
	if id == "" {
		return nil, errors.New("strategy alternating-users reads the secret its values' masterarn names: give it with --option " + OptMasterSecret + "=ARN")
	}
	st.Resources = []string{req.Secrets[0].SecretARN(id)}
	return []rotator.Statement{st}, nil
}
