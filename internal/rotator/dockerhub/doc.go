// Package dockerhub is the "dockerhub" credential kind: it rotates Docker
// Hub personal access tokens, the job of the Docker Hub PAT rotation Lambda
// it replaces (same DOCKER_HUB_USERNAME, DOCKER_HUB_PASSWORD and
// DOCKER_HUB_SLACK_WEBHOOK_URL settings, which name SSM parameters).
//
// The secret value is {"username", "password" (the token), "token_id"},
// which `docker login` and ECS private-registry authentication read. The
// account credential that manages tokens never comes from the rotated
// secret: Docker Hub refuses to manage tokens with a session opened by a
// token. It is read from another secret (account-secret), or from SSM
// parameters (account-username-parameter, account-password-parameter, or
// the seed's environment variables).
//
// Create logs in (POST /v2/auth/token, or /v2/users/login where only that
// exists), removes the tokens rotor made for this secret that no version
// holds (an earlier attempt of this rotation that died before storing its
// value, or an abandoned one), and creates a token labelled
// rotor:<secret name>:<version id>. Test asks the registry's token service
// for a pull token with the new one. Revoke deactivates, then deletes, the
// token a version names. Tokens whose label rotor did not write are never
// touched by that housekeeping. Answers 429 are waited out as Retry-After
// says, within the step's deadline; other failures are returned, not
// retried.
package dockerhub
