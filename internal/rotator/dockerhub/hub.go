package dockerhub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
)

// hubToken is an access token as Docker Hub lists it (no plaintext).
type hubToken struct {
	UUID      string `json:"uuid"`
	Label     string `json:"token_label"`
	Active    bool   `json:"is_active"`
	CreatedAt string `json:"created_at"`
}

// created is Docker Hub's answer to a create: the plaintext, once.
type created struct {
	hubToken
	Token string `json:"token"`
}

// errManage is the advice for a login that may not manage tokens.
const errManage = "Docker Hub refuses to manage access tokens with this login: a session opened with a personal access token cannot create, list or delete tokens. Give the account's password (or an organisation access token) in %s, %s/%s or $%s/$%s, never a personal access token"

// login opens a session with the account credential: POST /v2/auth/token,
// or /v2/users/login on a hub that lacks the first.
func (cl *client) login(ctx context.Context, a account) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := cl.do(ctx, call{method: http.MethodPost, url: cl.api("/v2/auth/token", nil),
		body: map[string]string{"identifier": a.username, "secret": a.password}}, &out)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) {
		var old struct {
			Token string `json:"token"`
		}
		err = cl.do(ctx, call{method: http.MethodPost, url: cl.api("/v2/users/login", nil),
			body: map[string]string{"username": a.username, "password": a.password}}, &old)
		out.AccessToken = old.Token
	}
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return "", fmt.Errorf("%w: Docker Hub refused the account credential of %q (from %s): %v; check the username and password there",
			rotator.ErrPermanent, a.username, a.source, err)
	}
	if err != nil {
		return "", fmt.Errorf("log in to Docker Hub as %q: %w", a.username, err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("log in to Docker Hub as %q: the answer holds no session token", a.username)
	}
	return out.AccessToken, nil
}

// managing turns a 403 on the token API into the advice to use a password.
func managing(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return fmt.Errorf("%w: %v. "+errManage, rotator.ErrPermanent, err,
			OptAccountSecret, OptAccountUsernameParameter, OptAccountPasswordParameter, EnvUsername, EnvPassword)
	}
	return err
}

func (cl *client) createToken(ctx context.Context, jwt, lbl string, scopes []string, expires time.Time) (created, error) {
	body := map[string]any{"token_label": lbl, "scopes": scopes}
	if !expires.IsZero() {
		body["expires_at"] = expires.UTC().Format(time.RFC3339)
	}
	var out created
	if err := cl.do(ctx, call{method: http.MethodPost, url: cl.api("/v2/access-tokens", nil), bearer: jwt, body: body}, &out); err != nil {
		return created{}, managing(err)
	}
	if out.UUID == "" || out.Token == "" {
		return created{}, errors.New("create a Docker Hub access token: the answer holds no uuid or token")
	}
	return out, nil
}

// listTokens reads every page of the account's tokens, following next
// (only to the hub itself: the session never goes to another host).
func (cl *client) listTokens(ctx context.Context, jwt string) ([]hubToken, error) {
	next := cl.api("/v2/access-tokens", url.Values{"page": {"1"}, "page_size": {strconv.Itoa(pageSize)}})
	var all []hubToken
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list Docker Hub access tokens: more than %d pages", maxPages)
		}
		var out struct {
			Count   int        `json:"count"`
			Next    *string    `json:"next"`
			Results []hubToken `json:"results"`
		}
		if err := cl.do(ctx, call{method: http.MethodGet, url: next, bearer: jwt}, &out); err != nil {
			return nil, managing(err)
		}
		all = append(all, out.Results...)
		next = ""
		if out.Next != nil && *out.Next != "" {
			u, err := cl.hub.Parse(*out.Next)
			if err != nil || u.Scheme != cl.hub.Scheme || u.Host != cl.hub.Host {
				return nil, errors.New("list Docker Hub access tokens: the next page is not on the hub; refusing to send the session there")
			}
			next = u.String()
		}
	}
	return all, nil
}

// retire deactivates, then deletes, a token. One that is already gone
// counts as deleted.
func (cl *client) retire(ctx context.Context, jwt, id string) error {
	path := "/v2/access-tokens/" + url.PathEscape(id)
	err := cl.do(ctx, call{method: http.MethodPatch, url: cl.api(path, nil), bearer: jwt, body: map[string]bool{"is_active": false}}, nil)
	if err == nil {
		err = cl.do(ctx, call{method: http.MethodDelete, url: cl.api(path, nil), bearer: jwt}, nil)
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil
	}
	return managing(err)
}

// registryToken asks the registry's token service for a pull token with
// basic auth, as `docker pull` does.
func (cl *client) registryToken(ctx context.Context, authURL, service, repo, user, tok string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return fmt.Errorf("option %s: not a URL", OptRegistryAuthURL)
	}
	q := u.Query()
	q.Set("service", service)
	q.Set("scope", "repository:"+repo+":pull")
	u.RawQuery = q.Encode()
	var out struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := cl.do(ctx, call{method: http.MethodGet, url: u.String(), basic: [2]string{user, tok}}, &out); err != nil {
		return err
	}
	if out.Token == "" && out.AccessToken == "" {
		return errors.New("the registry token service answered 200 without a token")
	}
	return nil
}
