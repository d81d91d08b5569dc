package dockerhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// session logs in with the account credential.
func (r *Rotator) session(ctx context.Context) (account, string, error) {
	a, err := r.account(ctx)
	if err != nil {
		return account{}, "", err
	}
	jwt, err := r.client.login(ctx, a)
	return a, jwt, err
}

// Create makes a new token, after removing the tokens rotor made for this
// secret that no version holds, and returns the value to store as pending.
func (r *Rotator) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	log := req.Log().With("kind", Name, "secret", req.Name)
	if req.Token == "" || req.Name == "" {
		return secret.Value{}, errors.New("dockerhub: Create needs the secret's name and the rotation token")
	}
	a, jwt, err := r.session(ctx)
	if err != nil {
		return secret.Value{}, err
	}
	if err := r.sweep(ctx, req, jwt, log); err != nil {
		return secret.Value{}, err
	}
	var expires time.Time
	if r.cfg.expiresIn > 0 {
		expires = r.now().Add(r.cfg.expiresIn)
	}
	t, err := r.client.createToken(ctx, jwt, label(req.Name, req.Token), r.cfg.scopes, expires)
	if err != nil {
		return secret.Value{}, fmt.Errorf("create a Docker Hub access token for %q: %w", a.username, err)
	}
	log.Info("created Docker Hub access token", "username", a.username, "token_id", t.UUID, "scopes", r.cfg.scopes)
	return value{Username: a.username, Password: t.Token, TokenID: t.UUID}.encode()
}

// sweep retires the tokens whose label says rotor made them for this
// secret and that neither AWSCURRENT nor AWSPREVIOUS holds: one of this
// rotation is an earlier attempt's, which died or lost Docker Hub's
// answer before its value was stored (its plaintext is gone for good, so
// it is replaced, never adopted); one of another rotation was left by a
// rotation that was abandoned before storing. A failure to retire this
// rotation's own fails Create, so the retry never adds a second token;
// other failures are logged and retried at the next rotation. Tokens
// whose label rotor did not write are never touched.
func (r *Rotator) sweep(ctx context.Context, req rotator.Request, jwt string, log *slog.Logger) error {
	tokens, err := r.client.listTokens(ctx, jwt)
	if err != nil {
		return fmt.Errorf("look for tokens an earlier attempt of rotation %s left: %w", req.Token, err)
	}
	keep := map[string]bool{}
	for _, v := range []secret.Value{req.Current, req.Previous} {
		if val, err := parseValue(v); err == nil && val.TokenID != "" {
			keep[val.TokenID] = true
		}
	}
	for _, t := range tokens {
		ver, ours := ownVersion(req.Name, t.Label)
		if !ours || keep[t.UUID] || t.UUID == "" {
			continue
		}
		err := r.client.retire(ctx, jwt, t.UUID)
		switch {
		case ver == req.Token && err != nil:
			return fmt.Errorf("delete token %s that an earlier attempt of this rotation made: %w", t.UUID, err)
		case ver == req.Token:
			log.Info("deleted the token an earlier attempt of this rotation made before its value was stored", "token_id", t.UUID)
		case err != nil:
			log.Warn("could not delete a token of this secret that no version holds; the next rotation tries again",
				"token_id", t.UUID, "version", ver, "err", err)
		default:
			log.Warn("deleted a token of this secret that neither AWSCURRENT nor AWSPREVIOUS holds: an abandoned rotation left it",
				"token_id", t.UUID, "version", ver)
		}
	}
	return nil
}

// Set does nothing: Docker Hub itself issues the token.
func (r *Rotator) Set(context.Context, rotator.Request) error { return nil }

// Test asks the registry's token service for a pull token with the
// pending username and token, as `docker pull` does.
func (r *Rotator) Test(ctx context.Context, req rotator.Request) error {
	v, err := parseValue(req.Pending)
	if err != nil {
		return fmt.Errorf("%w: test the pending token: %v", rotator.ErrPermanent, err)
	}
	if v.Username == "" {
		return fmt.Errorf("%w: test the pending token: the value has no username", rotator.ErrPermanent)
	}
	err = r.client.registryToken(ctx, r.cfg.authURL, r.cfg.service, r.cfg.repo, v.Username, v.Password)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return fmt.Errorf("test the pending token %s of %q: the registry token service refused it (HTTP 401): it is not active, expired, or not this user's", v.TokenID, v.Username)
	}
	if err != nil {
		return fmt.Errorf("test the pending token %s of %q: %w", v.TokenID, v.Username, err)
	}
	req.Log().Info("the pending Docker Hub token works", "kind", Name, "secret", req.Name, "token_id", v.TokenID, "repository", r.cfg.repo)
	return nil
}

// Revoke deactivates, then deletes, the token the version names. A token
// Docker Hub no longer knows counts as revoked. A value without a token
// id (the seed Lambda's bare token) cannot be matched to a Docker Hub
// token: it is left alone with a warning.
func (r *Rotator) Revoke(ctx context.Context, req rotator.Request) error {
	log := req.Log().With("kind", Name, "secret", req.Name)
	v, err := parseValue(req.Pending)
	if err != nil {
		log.Info("nothing to revoke: the version holds no Docker Hub token", "reason", err.Error())
		return nil
	}
	if v.TokenID == "" {
		log.Warn("the version's Docker Hub token has no token_id, so rotor cannot tell which token it is; deactivate it in Docker Hub's security settings")
		return nil
	}
	_, jwt, err := r.session(ctx)
	if err != nil {
		return fmt.Errorf("revoke Docker Hub token %s: %w", v.TokenID, err)
	}
	if err := r.client.retire(ctx, jwt, v.TokenID); err != nil {
		return fmt.Errorf("revoke Docker Hub token %s: %w", v.TokenID, err)
	}
	log.Info("deactivated and deleted Docker Hub token", "token_id", v.TokenID)
	return nil
}
