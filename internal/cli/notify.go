package cli

import (
	"context"
	"log/slog"
	"sync"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/notify"
	"github.com/rotorhq/rotor/internal/notify/ses"
	"github.com/rotorhq/rotor/internal/notify/sns"
)

// notifier turns the engine's notices into notifications on the channels
// the secret's options (environment defaults and rotor:notify-* tags) name.
// A notification never fails a rotation: bad settings and failed sends are
// logged (and counted by the dispatcher), nothing more.
func notifier(env []string, log *slog.Logger) func(context.Context, engine.Notice) {
	aws := &lazyAWS{}
	stats := notify.NewStats()
	var mu sync.Mutex
	var clients *notify.Deps // SNS and SES clients, made on first need
	seed := newSeedSlack(env, aws, log)
	return func(ctx context.Context, n engine.Notice) {
		n.Options = seed.apply(ctx, n)
		if !wantsNotify(n.Options) {
			return
		}
		deps := notify.Deps{Logger: log, Stats: stats}
		if n.Options[notify.OptSNSTopic] != "" || n.Options[notify.OptSESFrom] != "" || n.Options[notify.OptPreset] != "" {
			mu.Lock()
			if clients == nil {
				clients = &notify.Deps{}
				if cfg, err := aws.config(); err == nil {
					clients.SNS, clients.SES = sns.NewClient(cfg), ses.NewClient(cfg)
				} else {
					log.Warn("notifications through SNS or SES are off", "error", err)
				}
			}
			deps.SNS, deps.SES = clients.SNS, clients.SES
			mu.Unlock()
		}
		d, err := notify.FromOptions(n.Options, deps)
		if err != nil {
			log.Warn("notification settings are invalid; no notification sent", "secret", n.ARN, "error", err)
			return
		}
		user := n.Options.String("user", n.Options.String("username", ""))
		d.Send(ctx, notify.Event{Outcome: notify.Outcome(n.Outcome), SecretARN: n.ARN, SecretName: n.Name, Kind: n.Kind,
			Step: string(n.Step), Token: n.Token, User: user, Message: n.Message, Action: n.Action, Err: n.Err})
	}
}

func wantsNotify(o map[string]string) bool {
	for k := range o {
		if len(k) > 7 && k[:7] == "notify-" {
			return true
		}
	}
	return false
}
