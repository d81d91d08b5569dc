// Package iamtest runs a local AWS IAM and STS endpoint for tests: the IAM
// access-key actions (CreateAccessKey, ListAccessKeys, UpdateAccessKey,
// DeleteAccessKey, GetAccessKeyLastUsed, GetUser) and STS GetCallerIdentity,
// spoken over the Query protocol with AWS's XML responses and error bodies,
// so that the real AWS SDK v2 clients work against it through BaseEndpoint.
//
// It enforces what AWS enforces: every request must carry a SigV4 signature
// that verifies with the secret of the access key it names (checked with
// internal/sigv4, which re-signs the request with the SDK's own signer and
// compares; any region is accepted and recorded as the key's last-used
// region); unknown, deleted and inactive keys are refused; a user holds at most two access
// keys; a new key is refused until a configurable propagation delay has
// passed on the server's clock (IAM's eventual consistency); an admin
// principal may manage any user, while a user's own key may manage only that
// user's keys and only with the self-rotation policy on
// arn:aws:iam::*:user/${aws:username}.
//
// FailNext and FailNextAfter inject faults; Keys and Calls let tests inspect
// the state. ECR's GetAuthorizationToken with HTTPS registries whose /v2/
// checks the tokens (ecr.go), and STS AssumeRoleWithWebIdentity for IRSA
// (webidentity.go), are served too. IAM and STS share one URL: the request's Action and Version
// select the service, and the signature's credential scope must name it.
package iamtest
