package sns

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
)

// SNS's regional endpoints are the SDK's.
func TestEndpointsAreTheSDKs(t *testing.T) {
	r := sns.NewDefaultEndpointResolverV2()
	awsapitest.CompareEndpoints(t, service.Endpoint, func(region string, fips, dual bool) (string, error) {
		e, err := r.ResolveEndpoint(context.Background(), sns.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
		return e.URI.String(), err
	})
}
