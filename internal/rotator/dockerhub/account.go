package dockerhub

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rotorhq/rotor/internal/rotator"
)

// account reads the credential that manages tokens: from account-secret
// when set, else from SSM parameters. It never reads the rotated secret.
func (r *Rotator) account(ctx context.Context) (account, error) {
	if id := r.cfg.accountSecret; id != "" {
		if r.deps.Secrets == nil {
			return account{}, fmt.Errorf("%w: option %s: no secret store to read it from", rotator.ErrPermanent, OptAccountSecret)
		}
		v, err := r.deps.Secrets.ReadSecret(ctx, id)
		if err != nil {
			return account{}, fmt.Errorf("read the Docker Hub account secret %q (option %s): %w", id, OptAccountSecret, err)
		}
		var a struct{ Username, Password string }
		if json.Unmarshal(v.Bytes(), &a) != nil || a.Username == "" || a.Password == "" {
			return account{}, fmt.Errorf("%w: the Docker Hub account secret %q (option %s) must be a JSON object with username and password", rotator.ErrPermanent, id, OptAccountSecret)
		}
		return account{username: a.Username, password: a.Password, source: "secret " + id}, nil
	}
	if r.deps.Parameters == nil {
		return account{}, fmt.Errorf("%w: the Docker Hub account credential is in SSM, but no AWS configuration is available to read it", rotator.ErrPermanent)
	}
	user := r.cfg.username
	if user == "" {
		v, err := r.deps.Parameters.Get(ctx, r.cfg.usernameParam)
		if err != nil {
			return account{}, fmt.Errorf("read the Docker Hub user name: %w", err)
		}
		user = strings.TrimSpace(v.Text())
	}
	pw, err := r.deps.Parameters.Get(ctx, r.cfg.passwdParam)
	if err != nil {
		return account{}, fmt.Errorf("read the Docker Hub password: %w", err)
	}
	if user == "" || pw.Text() == "" {
		return account{}, fmt.Errorf("%w: the Docker Hub user name or password parameter is empty", rotator.ErrPermanent)
	}
	return account{username: user, password: pw.Text(), source: "SSM parameter " + r.cfg.passwdParam}, nil
}
