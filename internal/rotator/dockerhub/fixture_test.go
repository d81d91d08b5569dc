package dockerhub_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/parameter"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub/hubtest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/ssmtest"
)

const (
	user     = "acme-ci"
	password = "correct-horse-battery-staple-41"
)

// world is a Docker Hub and an SSM endpoint holding the account's
// credential under the seed's parameter names.
type world struct {
	hub    *hubtest.Server
	ssm    *ssmtest.Server
	slept  []time.Duration
	params parameter.Getter
}

func newWorld(t *testing.T, cfg hubtest.Config) *world {
	t.Helper()
	w := &world{hub: hubtest.New(cfg), ssm: ssmtest.New(ssmtest.Config{})}
	t.Cleanup(w.hub.Close)
	t.Cleanup(w.ssm.Close)
	w.hub.AddUser(user, password)
	w.ssm.Put("DOCKER_HUB_USERNAME", user)
	w.ssm.PutSecure("DOCKER_HUB_PASSWORD", password)
	w.params = parameter.New(aws.Config{Region: ssmtest.Region, BaseEndpoint: aws.String(w.ssm.URL),
		Credentials: credentials.StaticCredentialsProvider{Value: ssmtest.Credentials()}}, nil, nil)
	return w
}

func (w *world) deps() dockerhub.Deps {
	return dockerhub.Deps{
		Parameters: w.params,
		Env:        []string{"DOCKER_HUB_USERNAME=DOCKER_HUB_USERNAME", "DOCKER_HUB_PASSWORD=DOCKER_HUB_PASSWORD"},
		Sleep: func(ctx context.Context, d time.Duration) error {
			w.slept = append(w.slept, d)
			return ctx.Err()
		},
	}
}

func (w *world) opts() rotator.Options {
	return rotator.Options{dockerhub.OptHubURL: w.hub.URL, dockerhub.OptRegistryAuthURL: w.hub.AuthURL}
}

// initial is a working first value: a token made in Docker Hub's UI.
func (w *world) initial() secret.Value {
	id, tok := w.hub.IssueToken(user, "made by hand")
	b, _ := json.Marshal(map[string]string{"username": user, "password": tok, "token_id": id})
	return secret.New(string(b))
}

func field(v secret.Value, name string) string {
	var m map[string]string
	_ = json.Unmarshal(v.Bytes(), &m)
	return m[name]
}
