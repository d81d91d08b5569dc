package parameter

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/rotorhq/rotor/internal/awsapi"
	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
	"github.com/rotorhq/rotor/internal/ssmtest"
)

// The SDK's SSM client is here only to hold rotor's call to what it
// would send and answer.

// rotor's request is the SDK's: the same action, content type and JSON
// document, and the endpoint verifies its signature with the real key.
func TestRequestIsTheSDKs(t *testing.T) {
	srv := ssmtest.New(ssmtest.Config{})
	defer srv.Close()
	srv.PutSecure("/hub/password", "pa$$")
	ctx := context.Background()
	cfg := srv.AWSConfig(ssmtest.Credentials())

	want, err := ssmtest.SDKGetParameter(ctx, cfg, "/hub/password")
	if err != nil || want == nil || *want != "pa$$" {
		t.Fatalf("the SDK's call: %v", err)
	}
	got, err := newSSMClient(cfg).getParameter(ctx, "/hub/password")
	if err != nil || got == nil || *got != *want {
		t.Fatalf("rotor's call: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	sdk, ours := reqs[0], reqs[1]
	if ours.Target != sdk.Target || ours.ContentType != sdk.ContentType {
		t.Errorf("rotor sent %s %s, the SDK %s %s", ours.Target, ours.ContentType, sdk.Target, sdk.ContentType)
	}
	var a, b map[string]any
	if json.Unmarshal(sdk.Body, &a) != nil || json.Unmarshal(ours.Body, &b) != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("rotor sent %s, the SDK %s", ours.Body, sdk.Body)
	}
}

// The regional endpoints are the SDK's own, FIPS and dual stack included.
func TestRegionEndpointIsTheSDKs(t *testing.T) {
	r := ssm.NewDefaultEndpointResolverV2()
	awsapitest.CompareEndpoints(t, ssmEndpoint, func(region string, fips, dual bool) (string, error) {
		e, err := r.ResolveEndpoint(context.Background(), ssm.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
		return e.URI.String(), err
	})
	cfg := aws.Config{Region: "us-isoz-east-1"}
	if _, err := awsapi.New(cfg, ssmService).Endpoint(context.Background()); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_SSM") {
		t.Errorf("an unknown partition: %v, want a hint to configure the endpoint", err)
	}
}
