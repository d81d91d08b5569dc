package ses

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
)

// SES v2's regional endpoints are the SDK's.
func TestEndpointsAreTheSDKs(t *testing.T) {
	r := sesv2.NewDefaultEndpointResolverV2()
	awsapitest.CompareEndpoints(t, service.Endpoint, func(region string, fips, dual bool) (string, error) {
		e, err := r.ResolveEndpoint(context.Background(), sesv2.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
		return e.URI.String(), err
	})
}
