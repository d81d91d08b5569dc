package jfrog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"

	"github.com/rotorhq/rotor/internal/secret"
)

// RoleARNPattern is the form of IAM role ARN JFrog accepts for the mapping.
var RoleARNPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^arn:aws:iam::\d{12}:role/[\w+=,.@:-]+$`) })

// ErrNoIAMRole is returned by GetIAMRole when no role is mapped to the user.
var ErrNoIAMRole = errors.New("no IAM role is mapped to the JFrog user")

func adminClient(httpClient *http.Client, host string) (*client, error) {
	base, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &client{http: httpClient, base: base}, nil
}

// TagIAMRole maps the IAM role roleARN to the JFrog user username, so that
// the role's IAM role exchange yields that user's tokens: the one-time admin
// step (PUT /access/api/v1/aws/iam_role). adminToken must be an admin's.
// Roles with a path (role/path/name) are not accepted by JFrog.
func TagIAMRole(ctx context.Context, httpClient *http.Client, host string, adminToken secret.Value, username, roleARN string) error {
	if username == "" {
		return errors.New("tag IAM role: the JFrog username is empty")
	}
	if !RoleARNPattern().MatchString(roleARN) {
		return fmt.Errorf("tag IAM role: %q is not an IAM role ARN JFrog accepts (arn:aws:iam::<12 digits>:role/<name>, without a path)", roleARN)
	}
	cl, err := adminClient(httpClient, host)
	if err != nil {
		return err
	}
	tok := adminToken.Text()
	_, err = cl.do(ctx, call{
		method:  http.MethodPut,
		path:    pathIAMRole,
		auth:    bearer(tok),
		body:    map[string]string{"username": username, "iam_role": roleARN},
		secrets: []string{tok},
	}, nil)
	if err != nil {
		return fmt.Errorf("map IAM role %s to JFrog user %q: %w", roleARN, username, err)
	}
	return nil
}

// GetIAMRole returns the IAM role ARN mapped to the JFrog user username
// (GET /access/api/v1/aws/iam_role/<username>), or ErrNoIAMRole.
func GetIAMRole(ctx context.Context, httpClient *http.Client, host string, adminToken secret.Value, username string) (string, error) {
	cl, err := adminClient(httpClient, host)
	if err != nil {
		return "", err
	}
	tok := adminToken.Text()
	var out struct {
		Username string `json:"username"`
		IAMRole  string `json:"iam_role"`
	}
	_, err = cl.do(ctx, call{
		method:  http.MethodGet,
		path:    pathIAMRole + "/" + url.PathEscape(username),
		auth:    bearer(tok),
		secrets: []string{tok},
	}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return "", fmt.Errorf("JFrog user %q: %w", username, ErrNoIAMRole)
	}
	if err != nil {
		return "", fmt.Errorf("read the IAM role of JFrog user %q: %w", username, err)
	}
	if out.IAMRole == "" {
		return "", fmt.Errorf("JFrog user %q: %w", username, ErrNoIAMRole)
	}
	return out.IAMRole, nil
}
