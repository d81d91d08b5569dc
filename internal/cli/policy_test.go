package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README shows rotor policy's output; it must be what rotor prints.
func TestPolicyREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```json\n$ rotor policy ")
	if !ok {
		t.Fatal("README.md has no ```json block starting with $ rotor policy")
	}
	block, _, _ = strings.Cut(block, "```")
	cmdline, want, _ := strings.Cut(block, "\n")
	args := append([]string{"policy"}, strings.Fields(cmdline)...)
	got := mustRun(t, testEnv(t.TempDir()), args...)
	if got != want {
		t.Errorf("README.md shows for rotor %s:\n%s\nrotor prints:\n%s", strings.Join(args, " "), want, got)
	}
}

func TestPolicyUsage(t *testing.T) {
	env := testEnv(t.TempDir())
	const arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db-AbCdEf"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"policy", "--secret-arn", arn}, "--kind: name the kinds"},
		{[]string{"policy", "--kind", "password"}, "--secret-arn: name the secrets"},
		{[]string{"policy", "--kind", "password,nope-kind", "--secret-arn", arn}, "--kind: want kinds among"},
		{[]string{"policy", "--kind", "password,jfrog", "--secret-arn", arn}, "--secret-arn 1: with several kinds"},
		{[]string{"policy", "--kind", "password", "--secret-arn", "jfrog=" + arn}, "--secret-arn 1: its kind is not among --kind"},
		{[]string{"policy", "--kind", "password", "--secret-arn", "Pa55w0rd!x"}, "secret 1 of kind password is not a Secrets Manager secret ARN"},
		{[]string{"policy", "--kind", "password", "--secret-arn", arn, "--format", "xml"}, "--format: want one of iam, terraform, cloudformation"},
	}
	for _, tt := range tests {
		_, stderr, code := runIn(t, env, "", tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("rotor %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tt.args, " "), code, stderr, ExitUsage, tt.want)
		}
		if strings.Contains(stderr, "Pa55w0rd") || strings.Contains(stderr, "nope-kind") || strings.Contains(stderr, "xml") {
			t.Errorf("rotor %s repeats what was typed: %q", strings.Join(tt.args, " "), stderr)
		}
	}
}

// Options come from the environment as the function reads them, and
// --option wins.
func TestPolicyOptions(t *testing.T) {
	env := append(testEnv(t.TempDir()), "ROTOR_USER=from-env")
	const arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:access-key/alice-AbCdEf"
	out := mustRun(t, env, "policy", "--kind", "iam-access-key", "--secret-arn", arn, "--format", "terraform")
	if !strings.Contains(out, `"arn:aws:iam::123456789012:user/from-env"`) || !strings.HasPrefix(out, `data "aws_iam_policy_document" "rotor"`) {
		t.Errorf("ROTOR_USER not used:\n%s", out)
	}
	out = mustRun(t, env, "policy", "--kind", "iam-access-key", "--secret-arn", arn, "--option", "user=bob", "--format", "cloudformation")
	if !strings.Contains(out, "arn:aws:iam::123456789012:user/bob") || !strings.HasPrefix(out, "Policies:\n") {
		t.Errorf("--option user=bob not used:\n%s", out)
	}
}
