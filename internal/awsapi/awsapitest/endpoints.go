// Package awsapitest holds an awsapi Service's endpoints and errors to the
// SDK's.
package awsapitest

import (
	"errors"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Regions are those CompareEndpoints checks: each partition rotor knows.
var Regions = []string{"us-east-1", "eu-central-1", "ap-southeast-2", "cn-north-1", "cn-northwest-1",
	"us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "us-isof-east-1",
	"eusc-de-east-1"}

// CompareEndpoints fails t where endpoint and the SDK's resolver (sdk)
// disagree, in every region of Regions, with and without FIPS and dual
// stack. Combinations the SDK refuses are skipped.
func CompareEndpoints(t *testing.T, endpoint func(region string, fips, dual bool) (string, bool), sdk func(region string, fips, dual bool) (string, error)) {
	t.Helper()
	for _, region := range Regions {
		for _, fips := range []bool{false, true} {
			for _, dual := range []bool{false, true} {
				want, err := sdk(region, fips, dual)
				if err != nil {
					continue
				}
				got, ok := endpoint(region, fips, dual)
				if !ok || got != want {
					t.Errorf("%s fips=%v dual=%v: %q, %v; the SDK resolves %q", region, fips, dual, got, ok, want)
				}
			}
		}
	}
}

// ErrorShape is what callers and the retryer read of an AWS error: its
// code, the operation (service and action), and the HTTP answer's status
// and request id. Tests compare rotor's errors with the SDK's by it.
type ErrorShape struct {
	Code, Service, Operation, RequestID string
	Status                              int
}

// ShapeOf reads err's ErrorShape; what err lacks stays zero.
func ShapeOf(err error) (s ErrorShape) {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	var op *smithy.OperationError
	if errors.As(err, &api) {
		s.Code = api.ErrorCode()
	}
	if errors.As(err, &resp) {
		s.Status, s.RequestID = resp.HTTPStatusCode(), resp.ServiceRequestID()
	}
	if errors.As(err, &op) {
		s.Service, s.Operation = op.Service(), op.Operation()
	}
	return s
}
