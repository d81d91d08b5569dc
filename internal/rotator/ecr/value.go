package ecr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
)

// dockerConfig is the value in the dockerconfigjson format.
type dockerConfig struct {
	Auths     map[string]authEntry `json:"auths"`
	ExpiresAt time.Time            `json:"expires_at"`
}

type authEntry struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

// ecsValue is the value in the ecs format.
type ecsValue struct {
	Username  string    `json:"username"`
	Password  string    `json:"password"`
	Registry  string    `json:"registry"`
	ExpiresAt time.Time `json:"expires_at"`
}

// registryAuth is one registry's credentials in a value.
type registryAuth struct {
	host, user, password string
}

// parse reads the registries' credentials from a value of either format.
func parse(v secret.Value) ([]registryAuth, error) {
	if v.IsBinary() {
		return nil, errors.New("the value is binary, not JSON")
	}
	var raw struct {
		Auths    map[string]authEntry `json:"auths"`
		Username string               `json:"username"`
		Password string               `json:"password"`
		Registry string               `json:"registry"`
	}
	if err := json.Unmarshal(v.Bytes(), &raw); err != nil {
		return nil, errors.New("the value is not a JSON object")
	}
	var out []registryAuth
	if raw.Registry != "" {
		out = append(out, registryAuth{host: raw.Registry, user: raw.Username, password: raw.Password})
	}
	for host, a := range raw.Auths {
		user, pw := a.Username, a.Password
		if pw == "" && a.Auth != "" {
			if b, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
				user, pw, _ = strings.Cut(string(b), ":")
			}
		}
		out = append(out, registryAuth{host: host, user: user, password: pw})
	}
	if len(out) == 0 {
		return nil, errors.New("the value names no registry")
	}
	for _, a := range out {
		if a.user == "" || a.password == "" || strings.ContainsAny(a.host, "/@ ") {
			return nil, errors.New("a registry entry has no user name or password, or a registry is not a host name")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].host < out[j].host })
	return out, nil
}

// key is an IAM access key in a key-secret value.
type key struct {
	ID, Secret, Token string
}

// parseKey reads {"access_key_id", "secret_access_key", "session_token"?}
// (also the AWS CLI's spellings AccessKeyId / SecretAccessKey).
func parseKey(v secret.Value) (key, error) {
	var raw map[string]string
	if v.IsBinary() || json.Unmarshal(v.Bytes(), &raw) != nil {
		return key{}, errors.New("its value is not a JSON object of strings {\"access_key_id\", \"secret_access_key\"}")
	}
	pick := func(names ...string) string {
		for _, n := range names {
			if s := raw[n]; s != "" {
				return s
			}
		}
		return ""
	}
	k := key{ID: pick("access_key_id", "AccessKeyId", "aws_access_key_id"),
		Secret: pick("secret_access_key", "SecretAccessKey", "aws_secret_access_key"),
		Token:  pick("session_token", "SessionToken", "aws_session_token")}
	if k.ID == "" || k.Secret == "" {
		return key{}, errors.New("its value has no access_key_id and secret_access_key")
	}
	return k, nil
}
