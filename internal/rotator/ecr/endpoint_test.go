package ecr

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
)

// ECR's regional endpoints are the SDK's.
func TestEndpointsAreTheSDKs(t *testing.T) {
	r := awsecr.NewDefaultEndpointResolverV2()
	awsapitest.CompareEndpoints(t, ecrService.Endpoint, func(region string, fips, dual bool) (string, error) {
		e, err := r.ResolveEndpoint(context.Background(), awsecr.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
		return e.URI.String(), err
	})
}
