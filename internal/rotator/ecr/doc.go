// Package ecr is rotor's "ecr" kind: it refreshes Amazon ECR pull
// credentials. ECR issues authorization tokens that expire after 12 hours;
// the kind calls GetAuthorizationToken for one or more registries (the
// registries option: account ids; the caller's own by default) and stores
// them as a Docker config, the value of a kubernetes.io/dockerconfigjson
// Secret:
//
//	{"auths": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com":
//	    {"username": "AWS", "password": "…", "auth": "<base64 of AWS:password>"}},
//	 "expires_at": "2026-12-07T14:00:00Z"}
//
// expires_at is the earliest expiry of the tokens (Docker, the kubelet and
// containerd ignore the extra member). With format=ecs the value is the ECS
// private-registry form {"username", "password", "registry", "expires_at"},
// for one registry.
//
// ECR is called with the IAM key in another secret (key-secret: a value
// {"access_key_id", "secret_access_key"}, as the IAM key rotation tool keeps
// it, which rotor may rotate itself), or with rotor's own AWS identity: the
// SDK's default credential chain, so a pod's IRSA web identity or EKS Pod
// Identity serves without any stored key.
//
// testSecret proves each new token against its registry: GET
// https://<registry>/v2/ with basic auth must not be refused with 401.
// Tokens cannot be revoked and need not be: they expire. The kind declares
// that it revokes nothing, so the engine records no revocation for it.
//
// A secret of this kind without a rotation schedule is refreshed when its
// tokens are within refresh-before (3h by default) of their expiry, so
// rotate --due from an hourly CronJob keeps pulls working and calls ECR
// about every nine hours.
package ecr
