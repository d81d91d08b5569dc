package iamkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
)

// The JSON fields of the secret value.
const (
	FieldAccessKeyID     = "access_key_id"
	FieldSecretAccessKey = "secret_access_key"
	FieldUserName        = "user_name"
)

// accessKeyIDRE is IAM's constraint on access key ids. A value whose id does
// not match (a placeholder such as "foo") references no key.
var accessKeyIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\w{16,128}$`) })

// keyValue is a parsed secret value. fields keeps every field as it was.
type keyValue struct {
	fields    map[string]json.RawMessage
	keyID     string
	secretKey string // plaintext; never printed
	userName  string
}

// hasKey reports whether the value references a real-looking access key.
func (v keyValue) hasKey() bool { return accessKeyIDRE().MatchString(v.keyID) }

// parseValue reads a secret value. The zero Value parses as empty. Errors
// never quote the value.
func parseValue(v secret.Value, label string) (keyValue, error) {
	out := keyValue{fields: map[string]json.RawMessage{}}
	if v.IsZero() {
		return out, nil
	}
	if v.IsBinary() {
		return out, fmt.Errorf("the %s value is binary; the iam-access-key kind needs a JSON object {%q, %q}: %w",
			label, FieldAccessKeyID, FieldSecretAccessKey, rotator.ErrPermanent)
	}
	if err := json.Unmarshal(v.Bytes(), &out.fields); err != nil || out.fields == nil {
		where := ""
		var se *json.SyntaxError
		if errors.As(err, &se) {
			where = fmt.Sprintf(" (syntax error at byte %d)", se.Offset)
		}
		return out, fmt.Errorf("the %s value is not a JSON object%s; the iam-access-key kind needs {%q, %q}: %w",
			label, where, FieldAccessKeyID, FieldSecretAccessKey, rotator.ErrPermanent)
	}
	for name, dst := range map[string]*string{FieldAccessKeyID: &out.keyID, FieldSecretAccessKey: &out.secretKey, FieldUserName: &out.userName} {
		raw, ok := out.fields[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return out, fmt.Errorf("field %q of the %s value is not a string: %w", name, label, rotator.ErrPermanent)
		}
	}
	return out, nil
}

// withKey returns the value with a new key pair, every other field kept.
func (v keyValue) withKey(id, secretKey string) (secret.Value, error) {
	fields := make(map[string]json.RawMessage, len(v.fields)+2)
	for k, raw := range v.fields {
		fields[k] = raw
	}
	for name, s := range map[string]string{FieldAccessKeyID: id, FieldSecretAccessKey: secretKey} {
		raw, err := json.Marshal(s)
		if err != nil {
			return secret.Value{}, fmt.Errorf("encode field %q", name)
		}
		fields[name] = raw
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return secret.Value{}, errors.New("encode the new secret value as JSON")
	}
	return secret.New(string(b)), nil
}

// userFor resolves the IAM user a value belongs to: its user_name field,
// else the user option, else, with auth=self and no user-pattern option, the
// user whose key AWSCURRENT holds (sts:GetCallerIdentity, which needs no
// permission), else the user-pattern applied to the secret's name.
func (r *Rotator) userFor(ctx context.Context, req rotator.Request, v keyValue) (string, error) {
	if v.userName != "" {
		if !userNameRE().MatchString(v.userName) {
			return "", fmt.Errorf("field %q of the secret value, %q, is not an IAM user name: %w", FieldUserName, v.userName, rotator.ErrPermanent)
		}
		return v.userName, nil
	}
	if r.user != "" {
		return r.user, nil
	}
	if r.userFromKey {
		return r.callerUser(ctx, req, v)
	}
	name := secretName(req)
	m := r.pattern.FindStringSubmatch(name)
	if m == nil || !userNameRE().MatchString(m[1]) {
		return "", fmt.Errorf("cannot tell the IAM user of secret %q: set the %q field in the value, the tag %s%s, or a tag %s%s whose capture group matches the user name in the secret's name: %w",
			name, FieldUserName, rotator.TagPrefix, OptUser, rotator.TagPrefix, OptUserPattern, rotator.ErrPermanent)
	}
	return m[1], nil
}

// callerUser asks STS whose key AWSCURRENT holds (or v's, when AWSCURRENT
// holds none), and returns that user's name.
func (r *Rotator) callerUser(ctx context.Context, req rotator.Request, v keyValue) (string, error) {
	if cur, err := parseValue(req.Current, "AWSCURRENT"); err == nil && cur.hasKey() && cur.secretKey != "" {
		v = cur
	}
	if !v.hasKey() || v.secretKey == "" {
		return "", fmt.Errorf("cannot tell the IAM user of secret %q: the secret holds no access key to ask STS with; set the %q field in the value or the tag %s%s: %w",
			secretName(req), FieldUserName, rotator.TagPrefix, OptUser, rotator.ErrPermanent)
	}
	out, err := r.stsClient(staticCreds(v)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("find the IAM user of access key %s with sts:GetCallerIdentity (or set the tag %s%s): %w", v.keyID, rotator.TagPrefix, OptUser, err)
	}
	arn := aws.ToString(out.Arn)
	_, path, ok := strings.Cut(arn, ":user/")
	name := path[strings.LastIndexByte(path, '/')+1:]
	if !ok || !userNameRE().MatchString(name) {
		return "", fmt.Errorf("access key %s belongs to %s, not to an IAM user; auth=%s rotates an IAM user's own key: %w", v.keyID, arn, AuthSelf, rotator.ErrPermanent)
	}
	return name, nil
}

// secretName is req.Name, or the name inside the ARN without the six
// random characters Secrets Manager appends.
func secretName(req rotator.Request) string {
	if req.Name != "" {
		return req.Name
	}
	if parts := strings.SplitN(req.SecretID, ":", 7); len(parts) == 7 && parts[0] == "arn" {
		name := parts[6]
		if i := strings.LastIndexByte(name, '-'); i >= 0 && len(name)-i == 7 {
			name = name[:i]
		}
		return name
	}
	return req.SecretID
}
