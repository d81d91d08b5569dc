package dockerhub

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rotorhq/rotor/internal/secret"
)

// value is the secret's JSON. Password holds the token: never log a value.
type value struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TokenID  string `json:"token_id,omitempty"`
}

func (value) String() string       { return secret.Redacted }
func (value) GoString() string     { return secret.Redacted }
func (value) LogValue() slog.Value { return slog.StringValue(secret.Redacted) }

func (v value) encode() (secret.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return secret.Value{}, fmt.Errorf("encode the secret value: %w", err)
	}
	return secret.New(string(b)), nil
}

var errNotToken = errors.New("not a Docker Hub token secret")

// parseValue reads a value written by this kind, an ECS-style
// {"username","password"}, or the bare token the seed Lambda stored. The
// error never quotes the value.
func parseValue(s secret.Value) (value, error) {
	text := strings.TrimSpace(s.Text())
	if text == "" || s.IsBinary() {
		return value{}, fmt.Errorf("%w: the value is empty or binary", errNotToken)
	}
	if !strings.HasPrefix(text, "{") {
		return value{Password: text}, nil
	}
	var v value
	if err := json.Unmarshal([]byte(text), &v); err != nil || v.Password == "" {
		return value{}, fmt.Errorf("%w: the value is not a JSON object with a password", errNotToken)
	}
	return v, nil
}

// account is the credential that manages tokens. Never log it.
type account struct {
	username string
	password string
	source   string // where it came from, for errors
}

func (account) String() string       { return secret.Redacted }
func (account) GoString() string     { return secret.Redacted }
func (account) LogValue() slog.Value { return slog.StringValue(secret.Redacted) }
