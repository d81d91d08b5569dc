package iamkey

import (
	"fmt"
	"strings"

	"github.com/rotorhq/rotor/internal/rotator"
)

// SidAccessKeys is the statement that lets the function manage the keys of
// the users it rotates (auth=role).
const SidAccessKeys = "RotateIAMAccessKeys"

// permissions: with auth=role rotor calls IAM on the user with its own
// role; with auth=self it signs with the user's current key, so the
// function needs nothing beyond Secrets Manager (the user needs a policy on
// its own keys, arn:aws:iam::*:user/${aws:username}).
func permissions(req rotator.PermissionRequest) ([]rotator.Statement, error) {
	stmt := rotator.Statement{Sid: SidAccessKeys, Actions: []string{
		"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey",
	}}
	if req.Every {
		stmt.Resources = []string{rotator.Placeholder("iam-user-arns")}
		return []rotator.Statement{stmt}, nil
	}
	r, err := New(Deps{}, rotator.Merge(req.Options, rotator.Options{OptAuth: AuthSelf}))
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(req.Options.String(OptAuth, AuthRole), AuthRole) {
		return nil, nil
	}
	for _, s := range req.Secrets {
		user := r.user
		if user == "" {
			name := s.SecretName()
			m := r.pattern.FindStringSubmatch(name)
			if m == nil || !userNameRE().MatchString(m[1]) {
				return nil, fmt.Errorf("secret %s: %s does not give an IAM user name from the secret's name: set the option %s", name, OptUserPattern, OptUser)
			}
			user = m[1]
		}
		stmt.Resources = append(stmt.Resources, s.In("iam", "", "user/"+user).String())
	}
	if len(stmt.Resources) == 0 {
		return nil, fmt.Errorf("with %s=%s the role needs IAM permissions on the users: name their secrets", OptAuth, AuthRole)
	}
	return []rotator.Statement{stmt}, nil
}
