package parameter

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/awsapi"
)

// ssmService is SSM's API; the SDK's SSM client is not linked (see
// internal/awsapi).
var ssmService = awsapi.Service{ID: "SSM", SigningName: "ssm", Endpoint: ssmEndpoint}

var regionalSSM = awsapi.Regional("ssm.{region}", "ssm-fips.{region}", "ssm.{region}", "ssm-fips.{region}")

// ssmEndpoint is SSM's regional endpoint. GovCloud's IPv4 endpoints are
// FIPS endpoints already and have no ssm-fips name.
func ssmEndpoint(region string, fips, dual bool) (string, bool) {
	if strings.HasPrefix(region, "us-gov-") && !dual {
		fips = false
	}
	return regionalSSM(region, fips, dual)
}

// ssmClient makes SSM's GetParameter call, the one Parameter Store action
// rotor uses, in the AWS JSON 1.1 protocol.
type ssmClient struct{ api *awsapi.Client }

func newSSMClient(cfg aws.Config) *ssmClient { return &ssmClient{awsapi.New(cfg, ssmService)} }

// getParameter returns the parameter's value, decrypted if it is a
// SecureString; nil if the answer holds none.
func (c *ssmClient) getParameter(ctx context.Context, name string) (*string, error) {
	in := struct {
		Name           string
		WithDecryption bool
	}{name, true}
	var out struct {
		Parameter *struct {
			Value *string
		}
	}
	if err := c.api.JSON(ctx, "AmazonSSM", "GetParameter", in, &out); err != nil {
		return nil, err
	}
	if out.Parameter == nil {
		return nil, nil
	}
	return out.Parameter.Value, nil
}
