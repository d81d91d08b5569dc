package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// template is a CloudFormation template parsed at the node level, so that
// the intrinsic functions' short forms (!Ref, !Sub, !GetAtt, !If...) keep
// their tags.
type template struct {
	params, conditions, resources map[string]*yaml.Node
	root                          *yaml.Node
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func entries(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = n.Content[i+1]
		}
	}
	return out
}

func parseTemplate(t *testing.T, path string) *template {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	root := doc.Content[0]
	return &template{root: root, params: entries(get(root, "Parameters")), conditions: entries(get(root, "Conditions")), resources: entries(get(root, "Resources"))}
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// checkReferences: every !Ref, !GetAtt, !Sub variable and condition names
// something the template declares, or a pseudo parameter.
func (tp *template) checkReferences(t *testing.T, n *yaml.Node, local map[string]bool) {
	t.Helper()
	name := func(s string) bool {
		return tp.params[s] != nil || tp.resources[s] != nil || strings.HasPrefix(s, "AWS::") || local[s]
	}
	switch n.Tag {
	case "!Ref":
		if !name(n.Value) {
			t.Errorf("line %d: !Ref %s names nothing declared", n.Line, n.Value)
		}
	case "!GetAtt":
		res, _, _ := strings.Cut(n.Value, ".")
		if n.Kind == yaml.SequenceNode {
			res = n.Content[0].Value
		}
		if tp.resources[res] == nil {
			t.Errorf("line %d: !GetAtt of %s, which is no resource", n.Line, res)
		}
	case "!Sub":
		str, vars := n, map[string]bool{}
		if n.Kind == yaml.SequenceNode {
			str = n.Content[0]
			for k := range entries(n.Content[1]) {
				vars[k] = true
			}
		}
		for _, m := range subVar.FindAllStringSubmatch(str.Value, -1) {
			v, _, _ := strings.Cut(m[1], ".")
			if !name(v) && !vars[v] {
				t.Errorf("line %d: !Sub uses ${%s}, which is not declared", n.Line, m[1])
			}
			if strings.Contains(m[1], ".") && tp.resources[v] == nil {
				t.Errorf("line %d: !Sub uses ${%s}: %s is no resource", n.Line, m[1], v)
			}
		}
	case "!If", "!Condition":
		c := n.Value
		if n.Kind == yaml.SequenceNode {
			c = n.Content[0].Value
		}
		if tp.conditions[c] == nil {
			t.Errorf("line %d: condition %s is not declared", n.Line, c)
		}
	}
	for _, c := range n.Content {
		tp.checkReferences(t, c, local)
	}
}

func TestCloudFormationTemplate(t *testing.T) {
	tp := parseTemplate(t, "cloudformation/rotor-rotation.yaml")
	tp.checkReferences(t, tp.root, nil)

	types := map[string][]string{}
	for name, r := range tp.resources {
		typ := get(r, "Type").Value
		types[typ] = append(types[typ], name)
		if c := get(r, "Condition"); c != nil && tp.conditions[c.Value] == nil {
			t.Errorf("resource %s: condition %s is not declared", name, c.Value)
		}
		if d := get(r, "DependsOn"); d != nil {
			for _, dep := range append([]*yaml.Node{d}, d.Content...) {
				if dep.Kind == yaml.ScalarNode && tp.resources[dep.Value] == nil {
					t.Errorf("resource %s depends on %s, which is no resource", name, dep.Value)
				}
			}
		}
	}
	for _, typ := range []string{"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Lambda::Permission", "AWS::SecretsManager::Secret", "AWS::SecretsManager::RotationSchedule", "AWS::Logs::LogGroup"} {
		if len(types[typ]) == 0 {
			t.Errorf("no %s", typ)
		}
	}

	// The function is the zip make lambda-zip builds, for provided.al2023.
	fn := get(tp.resources["Function"], "Properties")
	if get(fn, "Runtime").Value != "provided.al2023" || get(fn, "Handler").Value != "bootstrap" || get(get(fn, "Code"), "S3Key") == nil {
		t.Error("Function is not the provided.al2023 bootstrap from CodeBucket/CodeKey")
	}

	// Secrets Manager may invoke it for the account's secrets only.
	for _, name := range types["AWS::Lambda::Permission"] {
		p := get(tp.resources[name], "Properties")
		if get(p, "Principal").Value != "secretsmanager.amazonaws.com" {
			t.Errorf("%s: principal is not Secrets Manager", name)
		}
		for _, k := range []string{"SourceAccount", "SourceArn", "FunctionName", "Action"} {
			if get(p, k) == nil {
				t.Errorf("%s has no %s: Secrets Manager of any account could invoke the function", name, k)
			}
		}
	}

	// The role's statements are rotor policy's.
	role := get(tp.resources["Role"], "Properties")
	got := map[string]grant{}
	for _, pol := range get(role, "Policies").Content {
		for _, s := range get(get(pol, "PolicyDocument"), "Statement").Content {
			if s.Tag == "!If" { // [condition, statement, !Ref AWS::NoValue]
				if len(s.Content) != 3 || s.Content[2].Value != "AWS::NoValue" {
					t.Errorf("line %d: an optional statement is not !If [condition, statement, !Ref AWS::NoValue]", s.Line)
					continue
				}
				s = s.Content[1]
			}
			sid := get(s, "Sid").Value
			var g grant
			for _, a := range get(s, "Action").Content {
				g.actions = append(g.actions, a.Value)
			}
			if get(s, "Effect").Value != "Allow" || get(s, "Resource") == nil {
				t.Errorf("statement %s: not Allow, or no Resource", sid)
			}
			for op, keys := range entries(get(s, "Condition")) {
				for k := range entries(keys) {
					g.conditions = append(g.conditions, op+" "+k)
				}
			}
			got[sid] = g
		}
	}
	checkDrift(t, "deploy/cloudformation/rotor-rotation.yaml", got)
	if !slices.Contains(types["AWS::IAM::Role"], "Role") {
		t.Error("the role is not called Role")
	}
}
