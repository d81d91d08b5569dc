package cli

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/notify"
	"github.com/rotorhq/rotor/internal/parameter"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub"
	"github.com/rotorhq/rotor/internal/secret"
)

// dockerhubKind is the dockerhub kind, reading SSM parameters with the
// AWS configuration loaded on first need.
func dockerhubKind(env []string, secrets SecretReader, aws *lazyAWS) rotator.Kind {
	params := &lazyParameters{aws: aws, env: env}
	return dockerhub.Kind(dockerhub.Deps{Env: env, Secrets: secrets, Parameters: params, HTTPClient: metrics.HTTPClient("dockerhub", 30*time.Second)})
}

// lazyParameters is a parameter.Getter that loads the AWS configuration
// only when a parameter is read.
type lazyParameters struct {
	aws  *lazyAWS
	env  []string
	once sync.Once
	r    *parameter.Reader
}

func (l *lazyParameters) Get(ctx context.Context, name string) (secret.Value, error) {
	cfg, err := l.aws.config()
	if err != nil {
		return secret.Value{}, err
	}
	l.once.Do(func() { l.r = parameter.New(cfg, l.env, nil) })
	return l.r.Get(ctx, name)
}

// seedSlack gives a dockerhub secret's notice the Slack webhook the seed
// Lambda's DOCKER_HUB_SLACK_WEBHOOK_URL names (an SSM parameter holding
// the URL), unless the options already name one. The URL is read once.
type seedSlack struct {
	env    map[string]string
	params parameter.Getter
	log    *slog.Logger

	mu  sync.Mutex
	url string
	err bool
}

func newSeedSlack(env []string, aws *lazyAWS, log *slog.Logger) *seedSlack {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return &seedSlack{env: m, params: &lazyParameters{aws: aws, env: env}, log: log}
}

// apply returns n's options with notify-slack-webhook filled in.
func (s *seedSlack) apply(ctx context.Context, n engine.Notice) rotator.Options {
	name := s.env[dockerhub.EnvSlackWebhook]
	if n.Kind != dockerhub.Name || name == "" || n.Options[notify.OptSlackWebhook] != "" {
		return n.Options
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url == "" && !s.err {
		v, err := s.params.Get(ctx, name)
		if err != nil || strings.TrimSpace(v.Text()) == "" {
			s.err = true
			s.log.Warn("cannot read the Slack webhook URL that "+dockerhub.EnvSlackWebhook+" names; no Slack notification", "parameter", name, "error", err)
			return n.Options
		}
		s.url = strings.TrimSpace(v.Text())
	}
	if s.url == "" {
		return n.Options
	}
	return rotator.Merge(n.Options, rotator.Options{notify.OptSlackWebhook: s.url})
}
