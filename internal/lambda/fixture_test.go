package lambda

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

const (
	oldValue = "initial-password-value-9f3c"
	token    = "4b3c0b36-8f4e-4c3b-9a51-1d2e3f405162"
	// rotationToken is opaque; Secrets Manager's are 36 to 256 characters.
	rotationToken = "rotation-token-0f6e2a51-93c4-4d7b-8e2a-5b1c7d9e3f10"
)

// rotating is a secret whose rotation has begun, as RotateSecret leaves it:
// AWSPENDING on a placeholder version named token.
type rotating struct {
	st  *local.Store
	arn string
	old string // the version that held AWSCURRENT
}

func newRotating(t *testing.T, st *local.Store, kind string, tags ...store.Tag) rotating {
	t.Helper()
	ctx := context.Background()
	v := secret.New(oldValue)
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "app/db", Value: &v,
		Tags: append([]store.Tag{{Key: rotator.TagKind, Value: kind}}, tags...)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: ref.ARN, Token: token}); err != nil {
		t.Fatal(err)
	}
	return rotating{st: st, arn: ref.ARN, old: ref.VersionID}
}

// checkRotated asserts the state a finished rotation leaves and returns the
// new value.
func (r rotating) checkRotated(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	d, err := r.st.DescribeSecret(ctx, r.arn)
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasStage(token, store.Current) {
		t.Errorf("version %s is not AWSCURRENT: %v", token, d.VersionIDsToStages)
	}
	if !d.HasStage(r.old, store.Previous) {
		t.Errorf("the old version %s is not AWSPREVIOUS: %v", r.old, d.VersionIDsToStages)
	}
	cur, err := r.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: r.arn, VersionStage: store.Current})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Value.Text() == oldValue || cur.Value.IsZero() {
		t.Errorf("the value did not change")
	}
	return cur.Value.Text()
}

// logLines parses out as JSON lines, failing on any line that is not JSON.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// findLog returns the first line whose fields include want.
func findLog(lines []map[string]any, want map[string]string) map[string]any {
next:
	for _, l := range lines {
		for k, v := range want {
			if s, _ := l[k].(string); s != v {
				continue next
			}
		}
		return l
	}
	return nil
}

// checkNoValues fails if out contains any of values.
func checkNoValues(t *testing.T, what, out string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(out, v) {
			t.Errorf("%s contain a secret value", what)
		}
	}
}
