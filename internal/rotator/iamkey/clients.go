package iamkey

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/rotator"
)

// caller is who calls IAM: the credentials and how to describe them in an
// error.
type caller struct {
	creds aws.CredentialsProvider
	self  bool   // the user's own key
	keyID string // with self: the key used
}

func (c caller) String() string {
	if c.self {
		return fmt.Sprintf("the user's own key %s (%s=%s)", c.keyID, OptAuth, AuthSelf)
	}
	return fmt.Sprintf("rotor's own AWS credentials (%s=%s)", OptAuth, AuthRole)
}

func staticCreds(v keyValue) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(v.keyID, v.secretKey, "")
}

// callerFor picks the credentials for IAM calls: rotor's own with
// auth=role, the key of v (the current value) with auth=self.
func (r *Rotator) callerFor(v keyValue, label string) (caller, error) {
	if r.auth == AuthRole {
		return caller{creds: r.deps.AWS.Credentials}, nil
	}
	if !v.hasKey() || v.secretKey == "" {
		return caller{}, fmt.Errorf("%s=%s calls IAM with the user's key from %s, but that value holds no access key; put the user's working key in the secret, or use %s=%s: %w",
			OptAuth, AuthSelf, label, OptAuth, AuthRole, rotator.ErrPermanent)
	}
	return caller{creds: staticCreds(v), self: true, keyID: v.keyID}, nil
}

func (r *Rotator) stsClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(r.deps.AWS, func(o *sts.Options) {
		o.Credentials = creds
		if r.deps.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(r.deps.STSEndpoint)
		}
		if r.deps.HTTPClient != nil {
			o.HTTPClient = r.deps.HTTPClient
		}
	})
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isNoSuchEntity(err error) bool { return errorCode(err) == "NoSuchEntity" }

// isRefusedKey reports an error AWS gives for credentials it does not
// (yet) accept.
func isRefusedKey(err error) bool {
	switch errorCode(err) {
	case "InvalidClientTokenId", "SignatureDoesNotMatch":
		return true
	}
	return false
}
