// Package parameter reads values from AWS Systems Manager Parameter Store:
// through SSM's API (GetParameter, WithDecryption, so a SecureString
// arrives decrypted; see ssmClient), or, inside Lambda with the AWS
// Parameters and Secrets extension layer, through the extension's local
// cache on port 2773. The API path needs nothing but the function's role;
// the extension is only a shortcut, and any failure to use it falls back
// to the API. Values come back as secret.Value and errors name the
// parameter, never its value.
package parameter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/secret"
)

// Getter reads one parameter's value.
type Getter interface {
	Get(ctx context.Context, name string) (secret.Value, error)
}

// Environment variables of the extension, as AWS documents them.
const (
	EnvExtensionPort = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
	DefaultPort      = "2773"
	envSessionToken  = "AWS_SESSION_TOKEN"
	envRuntimeAPI    = "AWS_LAMBDA_RUNTIME_API"
)

// Reader reads parameters. The zero Reader is not usable: use New.
type Reader struct {
	ssm  *ssmClient
	ext  *extension // nil outside Lambda or without a session token
	log  *slog.Logger
	http *http.Client
}

// New returns a Reader calling SSM with cfg's credentials, retryer, HTTP
// client and endpoint settings (AWS_ENDPOINT_URL_SSM included). env is
// os.Environ()'s form: inside Lambda (AWS_LAMBDA_RUNTIME_API set) with
// AWS_SESSION_TOKEN, the extension on
// 127.0.0.1:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (default 2773) is
// tried first.
func New(cfg aws.Config, env []string, log *slog.Logger) *Reader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reader{ssm: newSSMClient(cfg), log: log, http: &http.Client{Timeout: 3 * time.Second}}
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	if m[envRuntimeAPI] != "" && m[envSessionToken] != "" {
		port := m[EnvExtensionPort]
		if port == "" {
			port = DefaultPort
		}
		r.ext = &extension{base: "http://127.0.0.1:" + port, token: m[envSessionToken]}
	}
	return r
}

// Get returns the decrypted value of the parameter name (a name, a path
// such as /team/docker/password, or an ARN).
func (r *Reader) Get(ctx context.Context, name string) (secret.Value, error) {
	if name == "" {
		return secret.Value{}, errors.New("read SSM parameter: no name given")
	}
	if r.ext != nil {
		v, err := r.ext.get(ctx, r.http, name)
		if err == nil {
			return v, nil
		}
		r.log.Debug("the Parameters and Secrets extension did not answer; reading the parameter through the SSM API",
			"parameter", name, "reason", err.Error())
	}
	v, err := r.ssm.getParameter(ctx, name)
	if err != nil {
		return secret.Value{}, fmt.Errorf("read SSM parameter %q (the role needs ssm:GetParameter on it, and kms:Decrypt on its key if that is a customer managed key): %w", name, err)
	}
	if v == nil {
		return secret.Value{}, fmt.Errorf("read SSM parameter %q: the answer holds no value", name)
	}
	return secret.New(*v), nil
}

// extension is the Parameters and Secrets Lambda extension's local API.
type extension struct {
	base, token string
}

func (e *extension) get(ctx context.Context, hc *http.Client, name string) (secret.Value, error) {
	u := e.base + "/systemsmanager/parameters/get?name=" + url.QueryEscape(name) + "&withDecryption=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return secret.Value{}, err
	}
	req.Header.Set("X-Aws-Parameters-Secrets-Token", e.token)
	resp, err := hc.Do(req)
	if err != nil {
		return secret.Value{}, errors.New("the extension is not reachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return secret.Value{}, fmt.Errorf("the extension answered HTTP %d", resp.StatusCode)
	}
	var out struct {
		Parameter struct {
			Value *string
		}
	}
	if json.Unmarshal(body, &out) != nil || out.Parameter.Value == nil {
		return secret.Value{}, errors.New("the extension's answer holds no value")
	}
	return secret.New(*out.Parameter.Value), nil
}
