package parameter_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/parameter"
	"github.com/rotorhq/rotor/internal/ssmtest"
)

const (
	password = "hub-pa$$word-'\"-ünïcode"
	session  = "lambda-session-token"
)

func config(t *testing.T, srv *ssmtest.Server, creds aws.Credentials) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       ssmtest.Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(srv.URL),
	}
}

func server(t *testing.T) *ssmtest.Server {
	t.Helper()
	srv := ssmtest.New(ssmtest.Config{})
	t.Cleanup(srv.Close)
	srv.PutSecure("/hub/password", password)
	srv.Put("hub-user", "ci-bot")
	return srv
}

// Without the extension, values come through the SDK's signed
// GetParameter, SecureStrings decrypted.
func TestSDK(t *testing.T) {
	srv := server(t)
	r := parameter.New(config(t, srv, ssmtest.Credentials()), nil, nil)
	ctx := context.Background()
	v, err := r.Get(ctx, "/hub/password")
	if err != nil {
		t.Fatal(err)
	}
	if v.Text() != password {
		t.Error("SecureString not decrypted to its value")
	}
	if v, err := r.Get(ctx, "hub-user"); err != nil || v.Text() != "ci-bot" {
		t.Errorf("String parameter: %q, %v", v.Text(), err)
	}
	if srv.Calls() != 2 {
		t.Errorf("SSM answered %d GetParameter calls, want 2", srv.Calls())
	}
}

// Errors name the parameter and what the role needs, never a value; a
// request signed with another key is refused by the endpoint.
func TestSDKErrors(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	r := parameter.New(config(t, srv, ssmtest.Credentials()), nil, nil)
	_, err := r.Get(ctx, "/hub/missing")
	if err == nil || !strings.Contains(err.Error(), `"/hub/missing"`) || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("missing parameter: %v", err)
	}
	if _, err := r.Get(ctx, ""); err == nil {
		t.Error("empty name: want an error")
	}
	wrong := ssmtest.Credentials()
	wrong.SecretAccessKey = "not-the-key"
	_, err = parameter.New(config(t, srv, wrong), nil, nil).Get(ctx, "/hub/password")
	if err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("wrong key: err = %v, want a refusal without the value", err)
	}
}

// Inside Lambda with the extension, the extension answers; when it does
// not (down, wrong token), the SDK path still does, and the log says why
// without a value.
func TestExtension(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	lambdaEnv := func(port, token string) []string {
		return []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "AWS_SESSION_TOKEN=" + token, parameter.EnvExtensionPort + "=" + port}
	}
	ext := ssmtest.NewExtension(srv, session)
	defer ext.Close()
	u, _ := url.Parse(ext.URL)

	r := parameter.New(config(t, srv, ssmtest.Credentials()), lambdaEnv(u.Port(), session), nil)
	if v, err := r.Get(ctx, "/hub/password"); err != nil || v.Text() != password {
		t.Fatalf("through the extension: %v", err)
	}
	if ext.Calls() != 1 || srv.Calls() != 0 {
		t.Errorf("extension answered %d, SSM %d; want the extension only", ext.Calls(), srv.Calls())
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r = parameter.New(config(t, srv, ssmtest.Credentials()), lambdaEnv(u.Port(), "another-session"), log)
	if v, err := r.Get(ctx, "/hub/password"); err != nil || v.Text() != password {
		t.Fatalf("extension refusing the token: want the SDK's answer, got %v", err)
	}
	if srv.Calls() != 1 {
		t.Errorf("SSM answered %d calls, want the fallback's 1", srv.Calls())
	}
	ext.Close()
	r = parameter.New(config(t, srv, ssmtest.Credentials()), lambdaEnv(u.Port(), session), log)
	if v, err := r.Get(ctx, "/hub/password"); err != nil || v.Text() != password {
		t.Fatalf("extension down: want the SDK's answer, got %v", err)
	}
	if !strings.Contains(logs.String(), "extension") {
		t.Errorf("the fallback was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), password) {
		t.Error("a parameter's value reached the log")
	}
}
