package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/audit"
)

// --audit-log appends one rotor.audit/v1 JSON object a line for every
// rotation, step and revocation, across commands, with no value in it.
func TestAuditLog(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(dir)
	path := filepath.Join(dir, "audit.jsonl")
	mustRun(t, env, "create", "app/audited", "--kind", "password")
	mustRun(t, env, "--audit-log", path, "rotate", "app/audited")
	mustRun(t, append(env, "ROTOR_AUDIT_LOG="+path), "rotate", "app/audited")
	value := strings.TrimSpace(mustRun(t, env, "get", "app/audited"))

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), value) {
		t.Fatal("the audit log holds the secret's value")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if e.Schema != audit.SchemaVersion || e.Secret != "app/audited" || e.Kind != "password" {
			t.Errorf("event: %+v", e)
		}
		if e.Type == audit.RotationStarted || e.Type == audit.RotationSucceeded {
			got = append(got, string(e.Type))
		}
	}
	if want := []string{"RotationStarted", "RotationSucceeded", "RotationStarted", "RotationSucceeded"}; !slices.Equal(got, want) {
		t.Errorf("rotations in the audit log: %v, want %v", got, want)
	}
}
