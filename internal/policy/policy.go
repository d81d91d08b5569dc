package policy

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/rotorhq/rotor/internal/notify"
	"github.com/rotorhq/rotor/internal/rotator"
)

// The statements every rotation function has, whatever its kinds.
const (
	SidRotateSecrets = "RotateSecrets"
	SidSecretsKey    = "UseSecretsKey"
	SidSNS           = "PublishNotifications"
	SidSES           = "SendNotificationMail"
	SidLogs          = "WriteLogs"
)

// DefaultFunctionName is the function's name when Request gives none.
const DefaultFunctionName = "rotor-rotation"

// Request says what the function serves.
type Request struct {
	// Kinds are the kinds the function rotates.
	Kinds []string
	// Secrets are the ARNs of the secrets of each kind. A secret's ARN may
	// be a pattern ending in -?????? (the random suffix Secrets Manager
	// appends to a name). All must be in one partition, region and
	// account: a rotation function serves its own region.
	Secrets map[string][]string
	// Options are the kinds' and the notifications' options, as the
	// function's environment (ROTOR_*) gives them.
	Options rotator.Options
	// Env is the function's environment, for kinds that read the variables
	// of the programs they replace (dockerhub's DOCKER_HUB_*).
	Env []string
	// KMSKeyARN is the customer managed key of the secrets, if any.
	KMSKeyARN string
	// FunctionName names the function's log group (default rotor-rotation).
	FunctionName string
}

// Document is an IAM policy: its Allow statements, in a fixed order.
type Document struct {
	Statements []rotator.Statement
}

// Build returns the policy of a function serving req, with the kinds of reg.
func Build(reg *rotator.Registry, req Request) (Document, error) {
	if len(req.Kinds) == 0 {
		return Document{}, errors.New("no kind: name the kinds the function serves")
	}
	var all []rotator.ARN
	perKind := map[string][]rotator.ARN{}
	for kind, arns := range req.Secrets {
		if !slices.Contains(req.Kinds, kind) {
			return Document{}, fmt.Errorf("secrets of kind %s, which is not among the kinds served (%s)", kind, strings.Join(req.Kinds, ", "))
		}
		for i, s := range arns {
			a, err := rotator.ParseARN(s)
			if err != nil || a.Service != "secretsmanager" || !strings.HasPrefix(a.Resource, "secret:") {
				return Document{}, fmt.Errorf("secret %d of kind %s is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>, or <name>-?????? for any suffix)", i+1, kind)
			}
			perKind[kind] = append(perKind[kind], a)
			all = append(all, a)
		}
	}
	if len(all) == 0 {
		return Document{}, errors.New("no secret: name the secrets the function rotates (their ARNs), so that the role reaches those only")
	}
	home := all[0]
	for _, a := range all[1:] {
		if a.Partition != home.Partition || a.Region != home.Region || a.Account != home.Account {
			return Document{}, fmt.Errorf("secrets in %s/%s/%s and %s/%s/%s: a rotation function serves the secrets of its own region and account; build one policy per function",
				home.Partition, home.Region, home.Account, a.Partition, a.Region, a.Account)
		}
	}
	var b builder
	b.add(rotateSecrets(arnStrings(all)...))
	for _, name := range req.Kinds {
		k, err := reg.Lookup(name)
		if err != nil {
			return Document{}, err
		}
		if k.Permissions == nil {
			continue
		}
		stmts, err := k.Permissions(rotator.PermissionRequest{Options: req.Options, Env: req.Env, Secrets: perKind[name]})
		if err != nil {
			return Document{}, fmt.Errorf("kind %s: %w", name, err)
		}
		b.add(stmts...)
	}
	if req.KMSKeyARN != "" {
		if _, err := rotator.ParseARN(req.KMSKeyARN); err != nil {
			return Document{}, fmt.Errorf("the KMS key: %w", err)
		}
		b.add(secretsKey("secretsmanager."+home.Region+".amazonaws.com", req.KMSKeyARN))
	}
	if topic := req.Options.String(notify.OptSNSTopic, ""); topic != "" {
		if _, err := rotator.ParseARN(topic); err != nil {
			return Document{}, fmt.Errorf("option %s: %w", notify.OptSNSTopic, err)
		}
		b.add(publish(topic))
	}
	if from := req.Options.String(notify.OptSESFrom, ""); from != "" {
		ids, err := sesIdentities(home, from)
		if err != nil {
			return Document{}, err
		}
		b.add(sendMail(ids...))
	}
	fn := req.FunctionName
	if fn == "" {
		fn = DefaultFunctionName
	}
	b.add(writeLogs(home.In("logs", home.Region, "log-group:/aws/lambda/"+fn+":*").String()))
	return b.doc()
}

// Every returns every statement a function serving every kind of reg could
// need, with rotator.Placeholder resources: what a deployment template must
// be able to grant, each statement when its input is given.
func Every(reg *rotator.Registry) (Document, error) {
	var b builder
	b.add(rotateSecrets(rotator.Placeholder("secret-arns")))
	for _, name := range reg.Names() {
		k, err := reg.Lookup(name)
		if err != nil {
			return Document{}, err
		}
		if k.Permissions == nil {
			continue
		}
		stmts, err := k.Permissions(rotator.PermissionRequest{Every: true})
		if err != nil {
			return Document{}, fmt.Errorf("kind %s: %w", name, err)
		}
		b.add(stmts...)
	}
	b.add(secretsKey(rotator.Placeholder("secretsmanager-service"), rotator.Placeholder("kms-key-arn")),
		publish(rotator.Placeholder("sns-topic-arns")),
		sendMail(rotator.Placeholder("ses-identity-arns")),
		writeLogs(rotator.Placeholder("log-group-arn")))
	return b.doc()
}

func arnStrings(as []rotator.ARN) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// rotateSecrets: the calls of the four steps (the engine reads the secret's
// labels and values, stores the pending value and moves the labels), on the
// rotated secrets only.
func rotateSecrets(arns ...string) rotator.Statement {
	return rotator.Statement{Sid: SidRotateSecrets, Actions: []string{
		"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
		"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
	}, Resources: arns}
}

// secretsKey: a customer managed key, used through Secrets Manager only.
func secretsKey(service, key string) rotator.Statement {
	return rotator.Statement{Sid: SidSecretsKey, Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"},
		Resources: []string{key}, Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": service}}}
}

func publish(topics ...string) rotator.Statement {
	return rotator.Statement{Sid: SidSNS, Actions: []string{"sns:Publish"}, Resources: topics}
}

func sendMail(identities ...string) rotator.Statement {
	return rotator.Statement{Sid: SidSES, Actions: []string{"ses:SendEmail"}, Resources: identities}
}

func writeLogs(group string) rotator.Statement {
	return rotator.Statement{Sid: SidLogs, Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{group}}
}

// sesIdentities are the identities SES may authorise a sender by: the
// address itself and its domain, whichever is the verified one.
func sesIdentities(home rotator.ARN, from string) ([]string, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("option %s: not an e-mail address: %w", notify.OptSESFrom, err)
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	return []string{
		home.In("ses", home.Region, "identity/"+addr.Address).String(),
		home.In("ses", home.Region, "identity/"+domain).String(),
	}, nil
}

// builder merges statements of the same Sid, in the order of their first
// appearance.
type builder struct {
	stmts []rotator.Statement
	err   error
}

func (b *builder) add(stmts ...rotator.Statement) {
	for _, s := range stmts {
		s.Actions = sortedSet(s.Actions)
		s.Resources = sortedSet(s.Resources)
		i := slices.IndexFunc(b.stmts, func(o rotator.Statement) bool { return o.Sid == s.Sid })
		if i < 0 {
			b.stmts = append(b.stmts, s)
			continue
		}
		if !slices.Equal(b.stmts[i].Actions, s.Actions) || fmt.Sprint(b.stmts[i].Condition) != fmt.Sprint(s.Condition) {
			b.err = errors.Join(b.err, fmt.Errorf("statement %s comes with two sets of actions or conditions: give each its own Sid", s.Sid))
			continue
		}
		b.stmts[i].Resources = sortedSet(append(b.stmts[i].Resources, s.Resources...))
	}
}

func (b *builder) doc() (Document, error) {
	for _, s := range b.stmts {
		if s.Sid == "" || len(s.Actions) == 0 || len(s.Resources) == 0 {
			b.err = errors.Join(b.err, fmt.Errorf("statement %q has no Sid, actions or resources", s.Sid))
		}
	}
	return Document{Statements: b.stmts}, b.err
}

func sortedSet(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
