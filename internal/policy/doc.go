// Package policy builds the least-privilege IAM policy of the role a rotor
// rotation function runs with, from the kinds it serves and the secrets it
// rotates, and writes it as an IAM policy document, a Terraform
// aws_iam_policy_document or a CloudFormation policy. The statements come
// from three places: the Secrets Manager calls every rotation makes (on the
// named secrets only), each kind's rotator.Kind.Permissions, and the
// function's own needs (its log group, the secrets' KMS key, the
// notification channels).
package policy
