package awstest

import (
	"context"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type staticCreds aws.Credentials

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(c), nil
}

// config is an AWS configuration calling srv with creds, retries off, so
// that a scripted failure is seen once.
func config(srv *httptest.Server, creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:           Region,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      aws.NewCredentialsCache(staticCreds(creds)),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.Client(),
	}
}
