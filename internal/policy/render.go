package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rotorhq/rotor/internal/rotator"
)

// Formats the policy is written in.
const (
	FormatIAM            = "iam"
	FormatTerraform      = "terraform"
	FormatCloudFormation = "cloudformation"
)

// Formats lists the formats Write knows.
var Formats = []string{FormatIAM, FormatTerraform, FormatCloudFormation}

// Version is the IAM policy language version.
const Version = "2012-10-17"

// Name is the name of the Terraform data source and of the role's inline
// policy in CloudFormation.
const Name = "rotor-rotation"

// Write renders d in format.
func (d Document) Write(format string) ([]byte, error) {
	switch format {
	case FormatIAM:
		return d.iam()
	case FormatTerraform:
		return d.terraform(), nil
	case FormatCloudFormation:
		return d.cloudFormation()
	}
	return nil, fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(Formats, ", "))
}

type iamStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

type iamDocument struct {
	Version   string         `json:"Version"`
	Statement []iamStatement `json:"Statement"`
}

func (d Document) iam() ([]byte, error) {
	doc := iamDocument{Version: Version}
	for _, s := range d.Statements {
		doc.Statement = append(doc.Statement, iamStatement{Sid: s.Sid, Effect: "Allow", Action: s.Actions, Resource: s.Resources, Condition: s.Condition})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// terraform writes an aws_iam_policy_document data source named rotor, as
// `terraform fmt` lays it out (each block's attributes aligned on "=").
func (d Document) terraform() []byte {
	var b bytes.Buffer
	b.WriteString("data \"aws_iam_policy_document\" \"rotor\" {\n")
	for i, s := range d.Statements {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("  statement {\n")
		writeAttrs(&b, "    ", [][2]string{
			{"sid", hclString(s.Sid)},
			{"effect", hclString("Allow")},
			{"actions", hclList(s.Actions)},
			{"resources", hclList(s.Resources)},
		})
		for _, op := range sortedKeys(s.Condition) {
			for _, key := range sortedKeys(s.Condition[op]) {
				b.WriteString("    condition {\n")
				writeAttrs(&b, "      ", [][2]string{
					{"test", hclString(op)},
					{"variable", hclString(key)},
					{"values", hclList([]string{s.Condition[op][key]})},
				})
				b.WriteString("    }\n")
			}
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// writeAttrs writes name = value lines, the names padded to the longest.
func writeAttrs(b *bytes.Buffer, indent string, attrs [][2]string) {
	width := 0
	for _, a := range attrs {
		width = max(width, len(a[0]))
	}
	for _, a := range attrs {
		fmt.Fprintf(b, "%s%-*s = %s\n", indent, width, a[0], a[1])
	}
}

// hclList writes a list of strings on one line.
func hclList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = hclString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// hclString quotes s as an HCL string literal that evaluates to s: quotes,
// backslashes and control characters escaped, and the template openings
// ${ and %{ doubled ($${, %%{) so that Terraform does not interpolate them.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// cloudFormation writes one entry of an AWS::IAM::Role's Policies.
func (d Document) cloudFormation() ([]byte, error) {
	stmts := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range d.Statements {
		st := mapping("Sid", scalar(s.Sid), "Effect", scalar("Allow"), "Action", sequence(s.Actions), "Resource", sequence(s.Resources))
		if len(s.Condition) > 0 {
			cond := mapping()
			for _, op := range sortedKeys(s.Condition) {
				keys := mapping()
				for _, k := range sortedKeys(s.Condition[op]) {
					keys.Content = append(keys.Content, scalar(k), scalar(s.Condition[op][k]))
				}
				cond.Content = append(cond.Content, scalar(op), keys)
			}
			st.Content = append(st.Content, scalar("Condition"), cond)
		}
		stmts.Content = append(stmts.Content, st)
	}
	v := scalar(Version)
	v.Style = yaml.DoubleQuotedStyle
	root := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{
		mapping("PolicyName", scalar(Name), "PolicyDocument", mapping("Version", v, "Statement", stmts)),
	}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(mapping("Policies", root)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func sequence(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		n.Content = append(n.Content, scalar(s))
	}
	return n
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Statement returns the statement of d with sid, if any.
func (d Document) Statement(sid string) (rotator.Statement, bool) {
	i := slices.IndexFunc(d.Statements, func(s rotator.Statement) bool { return s.Sid == sid })
	if i < 0 {
		return rotator.Statement{}, false
	}
	return d.Statements[i], true
}
