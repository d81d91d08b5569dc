package rotator

import (
	"fmt"
	"strings"
)

// Statement is one Allow statement of an IAM policy: what the role of the
// process that rotates a secret (the Lambda rotation function) must be
// allowed to do.
type Statement struct {
	// Sid names the statement. Statements of the same Sid from different
	// kinds or secrets are merged (their resources joined), so a Sid must
	// always come with the same actions and condition.
	Sid       string
	Actions   []string
	Resources []string
	// Condition is operator -> condition key -> value, e.g.
	// StringEquals -> kms:ViaService -> secretsmanager.us-east-1.amazonaws.com.
	Condition map[string]map[string]string
}

// PermissionRequest is what a kind's Permissions is asked about.
type PermissionRequest struct {
	// Options are the kind's options for these secrets, as the function
	// reads them (its ROTOR_* environment and the secrets' tags).
	Options Options
	// Env is the function's environment (os.Environ()'s form), for kinds
	// that read variables of the programs they replace.
	Env []string
	// Secrets are the secrets of this kind the function rotates.
	Secrets []ARN
	// Every asks for every statement the kind could need with any
	// options, with Placeholder resources: what a deployment template that
	// serves every secret of the kind must be able to grant.
	Every bool
}

// Permissions returns the statements the kind needs beyond the Secrets
// Manager calls of a rotation (which the engine's caller grants on the
// secrets themselves). Nil means the kind calls nothing else.
type Permissions func(PermissionRequest) ([]Statement, error)

// Placeholder is the resource of a statement asked for with Every: a name
// for the template's input that lists the resources, e.g. iam-user-arns.
func Placeholder(input string) string { return "${" + input + "}" }

// ARN is an Amazon Resource Name, split at its colons.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s, which must look like arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
func ParseARN(s string) (ARN, error) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] == "" || p[5] == "" {
		return ARN{}, fmt.Errorf("not an ARN (want arn:<partition>:<service>:<region>:<account>:<resource>)")
	}
	return ARN{Partition: p[1], Service: p[2], Region: p[3], Account: p[4], Resource: p[5]}, nil
}

// String joins the ARN back.
func (a ARN) String() string {
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.Account, a.Resource}, ":")
}

// SecretName is the name of the secret a Secrets Manager ARN names: the
// resource without "secret:" and the six random characters Secrets Manager
// appends ("-AbC123"). A pattern ARN ending in "-??????" gives the name
// before it.
func (a ARN) SecretName() string {
	name := strings.TrimPrefix(a.Resource, "secret:")
	if i := len(name) - 7; i > 0 && name[i] == '-' {
		return name[:i]
	}
	return name
}

// In returns the ARN of resource in service, in a's partition, region and
// account ("" region for global services such as IAM).
func (a ARN) In(service, region, resource string) ARN {
	return ARN{Partition: a.Partition, Service: service, Region: region, Account: a.Account, Resource: resource}
}

// SecretARN returns the ARN of the secret id in a's partition, region and
// account: id itself when it is an ARN, else the pattern that matches the
// secret named id whatever the random suffix Secrets Manager gave it.
func (a ARN) SecretARN(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return a.In("secretsmanager", a.Region, "secret:"+id+"-??????").String()
}
