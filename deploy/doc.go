// Package deploy holds rotor's deployment templates (terraform/, the
// Terraform module; cloudformation/, the CloudFormation/SAM template) and
// the tests that parse them and check them against the code: every
// reference resolves, Secrets Manager's invocation is limited to the
// account's secrets, and the role's statements are those `rotor policy`
// prints.
package deploy
