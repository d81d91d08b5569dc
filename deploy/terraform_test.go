package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// module is a directory of .tf files, parsed.
type module struct {
	dir    string
	bodies []*hclsyntax.Body
	blocks map[string]*hclsyntax.Block // "variable.x", "aws_iam_role.this", "data.aws_region.current", "module.rotor"...
	locals map[string]bool
}

func parseModule(t *testing.T, dir string) *module {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s: %v", dir, err)
	}
	p := hclparse.NewParser()
	m := &module{dir: dir, blocks: map[string]*hclsyntax.Block{}, locals: map[string]bool{}}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if formatted := string(hclwriteFormat(src)); formatted != string(src) {
			t.Errorf("%s is not formatted as terraform fmt would", f)
		}
		file, diags := p.ParseHCL(src, f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		body := file.Body.(*hclsyntax.Body)
		m.bodies = append(m.bodies, body)
		for _, b := range body.Blocks {
			var key string
			switch b.Type {
			case "resource":
				key = b.Labels[0] + "." + b.Labels[1]
			case "data":
				key = "data." + b.Labels[0] + "." + b.Labels[1]
			case "variable", "output", "module":
				key = b.Type + "." + b.Labels[0]
			case "locals":
				for name := range b.Body.Attributes {
					m.locals[name] = true
				}
				continue
			default:
				continue
			}
			if _, dup := m.blocks[key]; dup {
				t.Errorf("%s declared twice in %s", key, dir)
			}
			m.blocks[key] = b
		}
	}
	return m
}

// checkReferences: every var., local., resource, data. and module.
// reference names something the module declares.
func (m *module) checkReferences(t *testing.T) {
	t.Helper()
	// Built-in objects, and the type keywords of variable blocks.
	builtin := []string{"path", "each", "count", "self", "terraform",
		"string", "number", "bool", "any", "list", "map", "set", "object", "tuple", "optional"}
	for _, body := range m.bodies {
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			// Whole attribute expressions, so that a for expression's own
			// variables are in scope; lifecycle's ignore_changes names
			// attributes, not objects.
			a, ok := n.(*hclsyntax.Attribute)
			if !ok || a.Name == "ignore_changes" {
				return nil
			}
			for _, tr := range a.Expr.Variables() {
				root := tr.RootName()
				attr := func(i int) string {
					if len(tr) > i {
						if a, ok := tr[i].(hcl.TraverseAttr); ok {
							return a.Name
						}
					}
					return ""
				}
				var key string
				switch {
				case root == "var":
					key = "variable." + attr(1)
				case root == "local":
					if !m.locals[attr(1)] {
						t.Errorf("%s: local.%s is not declared (%s)", m.dir, attr(1), tr.SourceRange())
					}
					continue
				case root == "data":
					key = "data." + attr(1) + "." + attr(2)
				case root == "module":
					key = "module." + attr(1)
				case slices.Contains(builtin, root), dynamicIterator(body, root):
					continue
				default:
					key = root + "." + attr(1)
				}
				if m.blocks[key] == nil {
					t.Errorf("%s: %s refers to %s, which is not declared", m.dir, tr.SourceRange(), key)
				}
			}
			return nil
		})
	}
}

// dynamicIterator reports whether name is the iterator of a dynamic block
// in body (its label, as in statement.value).
func dynamicIterator(body *hclsyntax.Body, name string) bool {
	found := false
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if b, ok := n.(*hclsyntax.Block); ok && b.Type == "dynamic" && b.Labels[0] == name {
			found = true
		}
		return nil
	})
	return found
}

func literalStrings(t *testing.T, expr hclsyntax.Expression) []string {
	t.Helper()
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("not a literal at %s: %v", expr.Range(), diags)
	}
	str := func(v cty.Value) string {
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			t.Fatalf("not a string at %s: %v", expr.Range(), err)
		}
		return s.AsString()
	}
	var out []string
	if v.Type().IsTupleType() || v.Type().IsListType() {
		for _, e := range v.AsValueSlice() {
			out = append(out, str(e))
		}
		return out
	}
	return []string{str(v)}
}

func TestTerraformModule(t *testing.T) {
	m := parseModule(t, "terraform")
	m.checkReferences(t)

	// Drop-in for the JFrog token rotator's users: its variables and outputs.
	for _, v := range []string{"region", "jfrog_host", "secret_ttl", "jfrog_admin_username", "jfrog_admin_token", "ecr_image_uri", "tags"} {
		if m.blocks["variable."+v] == nil {
			t.Errorf("no variable %s (the JFrog rotator's name)", v)
		}
	}
	for _, o := range []string{"secret_name", "secret_arn", "function_name", "iam_role_arn", "region"} {
		if m.blocks["output."+o] == nil {
			t.Errorf("no output %s (the JFrog rotator's name)", o)
		}
	}
	if b := m.blocks["variable.jfrog_admin_token"]; b != nil {
		if a := b.Body.Attributes["sensitive"]; a == nil || literalStrings(t, a.Expr)[0] != "true" {
			t.Error("variable jfrog_admin_token is not sensitive")
		}
	}

	// The function is the zip make lambda-zip builds, for provided.al2023.
	fn := m.blocks["aws_lambda_function.this"]
	if fn == nil {
		t.Fatal("no aws_lambda_function.this")
	}
	for _, a := range []string{"filename", "source_code_hash", "runtime", "handler", "role", "architectures"} {
		if fn.Body.Attributes[a] == nil {
			t.Errorf("aws_lambda_function.this has no %s", a)
		}
	}
	if !strings.Contains(string(srcOf(t, m, m.blocks["data.aws_region.current"])), "aws_region") {
		t.Error("no region data source")
	}

	// Secrets Manager may invoke it for the account's secrets only.
	perms := 0
	for key, b := range m.blocks {
		if !strings.HasPrefix(key, "aws_lambda_permission.") {
			continue
		}
		perms++
		if p := b.Body.Attributes["principal"]; p == nil || literalStrings(t, p.Expr)[0] != "secretsmanager.amazonaws.com" {
			t.Errorf("%s: principal is not secretsmanager.amazonaws.com", key)
		}
		for _, a := range []string{"source_account", "source_arn", "function_name", "action"} {
			if b.Body.Attributes[a] == nil {
				t.Errorf("%s has no %s: Secrets Manager of any account could invoke the function", key, a)
			}
		}
	}
	if perms == 0 {
		t.Error("no aws_lambda_permission")
	}
	for _, r := range []string{"aws_secretsmanager_secret.this", "aws_secretsmanager_secret_rotation.this", "aws_iam_role.this", "aws_iam_role_policy.this", "aws_cloudwatch_log_group.this"} {
		if m.blocks[r] == nil {
			t.Errorf("no %s", r)
		}
	}
	rot := m.blocks["aws_secretsmanager_secret_rotation.this"]
	if rot != nil && (len(rot.Body.Blocks) == 0 || rot.Body.Blocks[0].Type != "rotation_rules") {
		t.Error("aws_secretsmanager_secret_rotation.this has no rotation_rules")
	}

	// The role's statements are rotor policy's.
	doc := m.blocks["data.aws_iam_policy_document.rotor"]
	if doc == nil {
		t.Fatal("no data.aws_iam_policy_document.rotor")
	}
	got := map[string]grant{}
	for _, b := range doc.Body.Blocks {
		stmt := b
		if b.Type == "dynamic" {
			stmt = b.Body.Blocks[0] // content
		}
		var g grant
		sid := literalStrings(t, stmt.Body.Attributes["sid"].Expr)[0]
		g.actions = literalStrings(t, stmt.Body.Attributes["actions"].Expr)
		if e := stmt.Body.Attributes["effect"]; e == nil || literalStrings(t, e.Expr)[0] != "Allow" {
			t.Errorf("statement %s is not effect = \"Allow\"", sid)
		}
		if stmt.Body.Attributes["resources"] == nil {
			t.Errorf("statement %s has no resources", sid)
		}
		for _, c := range stmt.Body.Blocks {
			if c.Type == "condition" {
				g.conditions = append(g.conditions, literalStrings(t, c.Body.Attributes["test"].Expr)[0]+" "+literalStrings(t, c.Body.Attributes["variable"].Expr)[0])
			}
		}
		got[sid] = g
	}
	checkDrift(t, "deploy/terraform/policy.tf", got)
}

// The example uses the module with its variables only, and sets every one
// it must.
func TestTerraformExample(t *testing.T) {
	mod := parseModule(t, "terraform")
	ex := parseModule(t, filepath.Join("terraform", "examples", "jfrog"))
	ex.checkReferences(t)
	call := ex.blocks["module.rotor"]
	if call == nil {
		t.Fatal("the example has no module \"rotor\"")
	}
	if src := literalStrings(t, call.Body.Attributes["source"].Expr)[0]; filepath.Clean(filepath.Join(ex.dir, src)) != filepath.Clean(mod.dir) {
		t.Errorf("the example's module source %s is not deploy/terraform", src)
	}
	for name := range call.Body.Attributes {
		if name != "source" && mod.blocks["variable."+name] == nil {
			t.Errorf("the example sets %s, which the module does not declare", name)
		}
	}
	for key, b := range mod.blocks {
		if strings.HasPrefix(key, "variable.") && b.Body.Attributes["default"] == nil && call.Body.Attributes[b.Labels[0]] == nil {
			t.Errorf("the example does not set the required variable %s", b.Labels[0])
		}
	}
}

func srcOf(t *testing.T, m *module, b *hclsyntax.Block) []byte {
	t.Helper()
	if b == nil {
		return nil
	}
	src, err := os.ReadFile(b.Range().Filename)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Range()
	return src[r.Start.Byte:r.End.Byte]
}
