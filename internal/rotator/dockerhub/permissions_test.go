package dockerhub

import (
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator"
)

func TestPermissions(t *testing.T) {
	home, err := rotator.ParseARN("arn:aws:secretsmanager:eu-central-1:123456789012:secret:hub/ci-AbCdEf")
	if err != nil {
		t.Fatal(err)
	}
	const kmsKey = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd"
	param := func(name string) string { return "arn:aws:ssm:eu-central-1:123456789012:parameter/" + name }
	type want map[string][]string // sid -> resources
	cases := []struct {
		name string
		opts rotator.Options
		env  []string
		want want
	}{
		{"account secret", rotator.Options{OptAccountSecret: "hub/account"}, nil,
			want{SidAccountSecret: {"arn:aws:secretsmanager:eu-central-1:123456789012:secret:hub/account-??????"}}},
		{"account secret by ARN", rotator.Options{OptAccountSecret: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:acct-XyZ123"}, nil,
			want{SidAccountSecret: {"arn:aws:secretsmanager:eu-central-1:123456789012:secret:acct-XyZ123"}}},
		{"seed variables", nil, []string{EnvUsername + "=/hub/user", EnvPassword + "=/hub/password", EnvSlackWebhook + "=hub-slack"},
			want{SidParameters: {param("hub/password"), param("hub/user"), param("hub-slack")}}},
		{"options over variables", rotator.Options{OptAccountPasswordParameter: "p", OptAccountUsernameParameter: "u"}, []string{EnvPassword + "=/seed"},
			want{SidParameters: {param("p"), param("u")}}},
		{"user name given", rotator.Options{OptAccountPasswordParameter: "p", OptAccountUsername: "ci-bot"}, nil,
			want{SidParameters: {param("p")}}},
		{"customer managed key", rotator.Options{OptAccountPasswordParameter: "p", OptAccountUsernameParameter: "p", OptParametersKMSKey: kmsKey}, nil,
			want{SidParameters: {param("p")}, SidParametersKey: {kmsKey}}},
		{"slack parameter beside an account secret", rotator.Options{OptAccountSecret: "a"}, []string{EnvSlackWebhook + "=/slack"},
			want{SidAccountSecret: {"arn:aws:secretsmanager:eu-central-1:123456789012:secret:a-??????"}, SidParameters: {param("slack")}}},
		{"key without parameters grants nothing", rotator.Options{OptAccountSecret: "a", OptParametersKMSKey: kmsKey}, nil,
			want{SidAccountSecret: {"arn:aws:secretsmanager:eu-central-1:123456789012:secret:a-??????"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stmts, err := permissions(rotator.PermissionRequest{Options: c.opts, Env: c.env, Secrets: []rotator.ARN{home}})
			if err != nil {
				t.Fatal(err)
			}
			got := want{}
			for _, s := range stmts {
				r := slices.Clone(s.Resources)
				slices.Sort(r)
				got[s.Sid] = r
				if s.Sid == SidParametersKey {
					if v := s.Condition["StringEquals"]["kms:ViaService"]; v != "ssm.eu-central-1.amazonaws.com" {
						t.Errorf("kms:ViaService = %q, want the SSM service of the secrets' region", v)
					}
					if !slices.Equal(s.Actions, []string{"kms:Decrypt"}) {
						t.Errorf("key actions %v, want kms:Decrypt only", s.Actions)
					}
				}
			}
			for sid, w := range c.want {
				slices.Sort(w)
				if !slices.Equal(got[sid], w) {
					t.Errorf("%s: resources %v, want %v", sid, got[sid], w)
				}
			}
			for sid := range got {
				if _, ok := c.want[sid]; !ok {
					t.Errorf("unexpected statement %s %v", sid, got[sid])
				}
			}
		})
	}
}

func TestPermissionsErrors(t *testing.T) {
	home, _ := rotator.ParseARN("arn:aws:secretsmanager:eu-central-1:123456789012:secret:hub/ci-AbCdEf")
	if _, err := permissions(rotator.PermissionRequest{Secrets: []rotator.ARN{home}}); err == nil || !strings.Contains(err.Error(), OptAccountSecret) {
		t.Errorf("no credential source: err = %v, want one that names %s", err, OptAccountSecret)
	}
	if _, err := permissions(rotator.PermissionRequest{Options: rotator.Options{OptAccountSecret: "a"}}); err == nil {
		t.Error("no secret named: want an error")
	}
	if _, err := permissions(rotator.PermissionRequest{Options: rotator.Options{OptAccountPasswordParameter: "p", OptAccountUsername: "u", OptParametersKMSKey: "alias/mine"}, Secrets: []rotator.ARN{home}}); err == nil || !strings.Contains(err.Error(), OptParametersKMSKey) {
		t.Errorf("key not an ARN: err = %v", err)
	}
}

func TestPermissionsEvery(t *testing.T) {
	stmts, err := permissions(rotator.PermissionRequest{Every: true})
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, s := range stmts {
		sids = append(sids, s.Sid)
		for _, r := range s.Resources {
			if !strings.HasPrefix(r, "${") {
				t.Errorf("%s: resource %q is not a placeholder", s.Sid, r)
			}
		}
	}
	if !slices.Equal(sids, []string{SidAccountSecret, SidParameters, SidParametersKey}) {
		t.Errorf("statements %v", sids)
	}
}
