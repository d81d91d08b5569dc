package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"gopkg.in/yaml.v3"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/jfrog"
	"github.com/rotorhq/rotor/internal/rotator/password"
)

const (
	jfrogARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:jfrog/access-token-AbCdEf"
	aliceARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:access-key/alice-AbCdEf"
	dbARN    = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db-??????"
	logGroup = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/rotor-rotation:*"
)

func registry() *rotator.Registry {
	return rotator.NewRegistry(password.Kind(), jfrog.Kind(jfrog.Deps{}), iamkey.Kind(iamkey.Deps{}))
}

// sids maps each statement's Sid to its resources.
func sids(d Document) map[string][]string {
	out := map[string][]string{}
	for _, s := range d.Statements {
		out[s.Sid] = s.Resources
	}
	return out
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want map[string][]string
	}{
		{"password needs Secrets Manager and logs only",
			Request{Kinds: []string{"password"}, Secrets: map[string][]string{"password": {dbARN}}},
			map[string][]string{SidRotateSecrets: {dbARN}, SidLogs: {logGroup}}},
		{"jfrog's role exchange needs nothing but its role",
			Request{Kinds: []string{"jfrog"}, Secrets: map[string][]string{"jfrog": {jfrogARN}}},
			map[string][]string{SidRotateSecrets: {jfrogARN}, SidLogs: {logGroup}}},
		{"jfrog's admin token secret, by name",
			Request{Kinds: []string{"jfrog"}, Secrets: map[string][]string{"jfrog": {jfrogARN}}, Options: rotator.Options{"admin-token-secret": "jfrog/admin"}},
			map[string][]string{SidRotateSecrets: {jfrogARN}, jfrog.SidAdminToken: {"arn:aws:secretsmanager:eu-central-1:123456789012:secret:jfrog/admin-??????"}, SidLogs: {logGroup}}},
		{"iam-access-key auth=role: the user from the secret's name",
			Request{Kinds: []string{"iam-access-key"}, Secrets: map[string][]string{"iam-access-key": {aliceARN}}},
			map[string][]string{SidRotateSecrets: {aliceARN}, iamkey.SidAccessKeys: {"arn:aws:iam::123456789012:user/alice"}, SidLogs: {logGroup}}},
		{"iam-access-key with the user option",
			Request{Kinds: []string{"iam-access-key"}, Secrets: map[string][]string{"iam-access-key": {aliceARN}}, Options: rotator.Options{"user": "bob"}},
			map[string][]string{SidRotateSecrets: {aliceARN}, iamkey.SidAccessKeys: {"arn:aws:iam::123456789012:user/bob"}, SidLogs: {logGroup}}},
		{"iam-access-key auth=self needs nothing beyond Secrets Manager",
			Request{Kinds: []string{"iam-access-key"}, Secrets: map[string][]string{"iam-access-key": {aliceARN}}, Options: rotator.Options{"auth": "self"}},
			map[string][]string{SidRotateSecrets: {aliceARN}, SidLogs: {logGroup}}},
		{"kinds get their own secrets; KMS, notifications and the function's name",
			Request{Kinds: []string{"password", "iam-access-key"},
				Secrets:   map[string][]string{"password": {dbARN}, "iam-access-key": {aliceARN}},
				KMSKeyARN: "arn:aws:kms:eu-central-1:123456789012:key/k1", FunctionName: "rot",
				Options: rotator.Options{"notify-sns-topic": "arn:aws:sns:eu-central-1:123456789012:ops", "notify-ses-from": "Rotor <rotor@example.com>"}},
			map[string][]string{
				SidRotateSecrets:     {aliceARN, dbARN},
				iamkey.SidAccessKeys: {"arn:aws:iam::123456789012:user/alice"},
				SidSecretsKey:        {"arn:aws:kms:eu-central-1:123456789012:key/k1"},
				SidSNS:               {"arn:aws:sns:eu-central-1:123456789012:ops"},
				SidSES:               {"arn:aws:ses:eu-central-1:123456789012:identity/example.com", "arn:aws:ses:eu-central-1:123456789012:identity/rotor@example.com"},
				SidLogs:              {"arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/rot:*"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Build(registry(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got := sids(d)
			if len(got) != len(tt.want) {
				t.Errorf("statements %v, want %v", got, tt.want)
			}
			for sid, res := range tt.want {
				if !slices.Equal(got[sid], res) {
					t.Errorf("%s: resources %v, want %v", sid, got[sid], res)
				}
			}
			if d.Statements[0].Sid != SidRotateSecrets || d.Statements[len(d.Statements)-1].Sid != SidLogs {
				t.Errorf("statement order: %v", d.Statements)
			}
			if s, _ := d.Statement(SidSecretsKey); s.Sid != "" && s.Condition["StringEquals"]["kms:ViaService"] != "secretsmanager.eu-central-1.amazonaws.com" {
				t.Errorf("the KMS key is not limited to Secrets Manager: %v", s.Condition)
			}
		})
	}
}

func TestBuildRefuses(t *testing.T) {
	other := "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no kind", Request{}, "no kind"},
		{"no secret", Request{Kinds: []string{"password"}}, "no secret"},
		{"not a secret", Request{Kinds: []string{"password"}, Secrets: map[string][]string{"password": {"arn:aws:sns:eu-central-1:1:t"}}}, "not a Secrets Manager secret ARN"},
		{"two regions", Request{Kinds: []string{"password"}, Secrets: map[string][]string{"password": {dbARN, other}}}, "one policy per function"},
		{"kind not served", Request{Kinds: []string{"password"}, Secrets: map[string][]string{"jfrog": {jfrogARN}}}, "not among the kinds served"},
		{"unknown kind", Request{Kinds: []string{"nope"}, Secrets: map[string][]string{"nope": {dbARN}}}, "unknown kind"},
		{"no user from the name", Request{Kinds: []string{"iam-access-key"}, Secrets: map[string][]string{"iam-access-key": {dbARN}},
			Options: rotator.Options{"user-pattern": `^users/(\w+)$`}}, "set the option user"},
		{"bad SES sender", Request{Kinds: []string{"password"}, Secrets: map[string][]string{"password": {dbARN}},
			Options: rotator.Options{"notify-ses-from": "not an address"}}, "notify-ses-from"},
	}
	for _, tt := range tests {
		if _, err := Build(registry(), tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}

// Every holds each kind's statements and the function's own.
func TestEvery(t *testing.T) {
	d, err := Every(registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{SidRotateSecrets, jfrog.SidAdminToken, iamkey.SidAccessKeys, SidSecretsKey, SidSNS, SidSES, SidLogs} {
		s, ok := d.Statement(sid)
		if !ok || len(s.Resources) != 1 || !strings.HasPrefix(s.Resources[0], "${") {
			t.Errorf("statement %s: %+v, want one with a placeholder resource", sid, s)
		}
	}
}

// Each format is a policy its consumer reads, with the same statements.
func TestWriteFormats(t *testing.T) {
	d, err := Build(registry(), Request{Kinds: []string{"iam-access-key"}, Secrets: map[string][]string{"iam-access-key": {aliceARN}},
		KMSKeyARN: "arn:aws:kms:eu-central-1:123456789012:key/k1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, s := range d.Statements {
		want[s.Sid] = s.Actions
	}

	js, err := d.Write(FormatIAM)
	if err != nil {
		t.Fatal(err)
	}
	var doc iamDocument
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != Version || len(doc.Statement) != len(d.Statements) {
		t.Fatalf("iam: %s", js)
	}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || !slices.Equal(s.Action, want[s.Sid]) {
			t.Errorf("iam statement %+v", s)
		}
	}

	tf, err := d.Write(FormatTerraform)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(tf, "policy.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("terraform: %v\n%s", diags, tf)
	}
	blocks := f.Body.(*hclsyntax.Body).Blocks
	if len(blocks) != 1 || blocks[0].Type != "data" || !slices.Equal(blocks[0].Labels, []string{"aws_iam_policy_document", "rotor"}) {
		t.Fatalf("terraform: %s", tf)
	}
	n := 0
	for _, b := range blocks[0].Body.Blocks {
		sid, _ := b.Body.Attributes["sid"].Expr.Value(nil)
		acts, _ := b.Body.Attributes["actions"].Expr.Value(nil)
		var got []string
		for _, a := range acts.AsValueSlice() {
			got = append(got, a.AsString())
		}
		if !slices.Equal(got, want[sid.AsString()]) {
			t.Errorf("terraform statement %s: actions %v", sid.AsString(), got)
		}
		n++
	}
	if n != len(d.Statements) {
		t.Errorf("terraform has %d statements, want %d", n, len(d.Statements))
	}

	cf, err := d.Write(FormatCloudFormation)
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		Policies []struct {
			PolicyName     string `yaml:"PolicyName"`
			PolicyDocument struct {
				Version   string `yaml:"Version"`
				Statement []struct {
					Sid    string   `yaml:"Sid"`
					Action []string `yaml:"Action"`
				} `yaml:"Statement"`
			} `yaml:"PolicyDocument"`
		} `yaml:"Policies"`
	}
	if err := yaml.Unmarshal(cf, &role); err != nil {
		t.Fatal(err)
	}
	if len(role.Policies) != 1 || role.Policies[0].PolicyDocument.Version != Version || len(role.Policies[0].PolicyDocument.Statement) != len(d.Statements) {
		t.Fatalf("cloudformation: %s", cf)
	}
	for _, s := range role.Policies[0].PolicyDocument.Statement {
		if !slices.Equal(s.Action, want[s.Sid]) {
			t.Errorf("cloudformation statement %+v", s)
		}
	}
	if _, err := d.Write("xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// The Terraform writer's strings evaluate to what they were given, however
// they are made: quotes, backslashes, control characters, template
// openings, non-ASCII. Its layout is what `terraform fmt` (hclwrite) makes.
func TestTerraformStrings(t *testing.T) {
	tricky := []string{
		`plain`, `with "quotes"`, `back\slash`, "new\nline\r\ttab", "\x00\x01\x1f\x7f",
		`${var.x}`, `%{ if true }`, `$${x}`, `%%{x}`, `$`, `%`, `{`, `a$b%c{d}`, `trailing $`,
		"ünïcødé ✓", "", `arn:aws:iam::123456789012:user/*`, "\u2028",
	}
	d := Document{Statements: []rotator.Statement{{Sid: "S", Actions: tricky, Resources: nil,
		Condition: map[string]map[string]string{"StringLike": {"aws:username": tricky[6]}}}}}
	tf, err := d.Write(FormatTerraform)
	if err != nil {
		t.Fatal(err)
	}
	if formatted := hclwrite.Format(tf); string(formatted) != string(tf) {
		t.Errorf("not laid out as terraform fmt would:\n%s\nwant\n%s", tf, formatted)
	}
	f, diags := hclsyntax.ParseConfig(tf, "policy.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, tf)
	}
	st := f.Body.(*hclsyntax.Body).Blocks[0].Body.Blocks[0].Body
	acts, diags := st.Attributes["actions"].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("actions do not evaluate: %v\n%s", diags, tf)
	}
	var got []string
	for _, a := range acts.AsValueSlice() {
		got = append(got, a.AsString())
	}
	if !slices.Equal(got, tricky) {
		t.Errorf("actions evaluate to\n%q\nwant\n%q", got, tricky)
	}
	if res, _ := st.Attributes["resources"].Expr.Value(nil); res.LengthInt() != 0 {
		t.Errorf("no resources: %#v", res)
	}
	cond := st.Blocks[0].Body.Attributes["values"]
	if v, diags := cond.Expr.Value(nil); diags.HasErrors() || v.AsValueSlice()[0].AsString() != tricky[6] {
		t.Errorf("condition value: %v %v", v, diags)
	}
}
