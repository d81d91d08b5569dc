package iamkey

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
)

// IAM's endpoints, and the regions they sign for, are the SDK's.
func TestIAMEndpointsAreTheSDKs(t *testing.T) {
	r := iam.NewDefaultEndpointResolverV2()
	ctx := context.Background()
	regions := append(slices.Clone(awsapitest.Regions), "us-gov-east-1", "us-iso-west-1", "eu-west-3", "me-central-1",
		"aws-global", "aws-cn-global", "aws-us-gov-global", "aws-iso-global", "aws-iso-b-global",
		"aws-iso-e-global", "aws-iso-f-global")
	for _, region := range regions {
		for _, fips := range []bool{false, true} {
			for _, dual := range []bool{false, true} {
				e, err := r.ResolveEndpoint(ctx, iam.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
				if err != nil {
					continue
				}
				want := ""
				opts, _ := smithyauth.GetAuthOptions(&e.Properties)
				for _, o := range opts {
					if s, ok := smithyhttp.GetSigV4SigningRegion(&o.SignerProperties); ok {
						want = s
					}
				}
				got, ok := iamEndpoint(region, fips, dual)
				if !ok || got != e.URI.String() {
					t.Errorf("%s fips=%v dual=%v: %q, %v; the SDK resolves %q", region, fips, dual, got, ok, e.URI.String())
				}
				if s := iamSigningRegion(region); want == "" || s != want {
					t.Errorf("%s: signs for %q; the SDK for %q", region, s, want)
				}
			}
		}
	}
}

func iamFixture(t *testing.T) (*iamtest.Server, aws.Credentials, *Rotator) {
	t.Helper()
	srv := iamtest.New(iamtest.Config{})
	t.Cleanup(srv.Close)
	if err := srv.AddUser(iamtest.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	admin := srv.AddAdmin("rotor")
	r := &Rotator{deps: Deps{AWS: aws.Config{Region: "eu-west-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, IAMEndpoint: srv.URL}}
	return srv, admin, r
}

// ListAccessKeys is read page by page, as IAM pages it.
func TestListAccessKeysPages(t *testing.T) {
	srv, admin, r := iamFixture(t)
	for range 2 {
		if _, err := srv.SeedKey("alice"); err != nil {
			t.Fatal(err)
		}
	}
	c := r.iamClient(credentials.StaticCredentialsProvider{Value: admin})
	c.pageSize = 1
	keys, err := c.listAccessKeys(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := srv.Keys("alice")
	if len(keys) != 2 || len(want) != 2 || srv.Calls("ListAccessKeys") != 2 {
		t.Fatalf("listed %d keys in %d calls; the user has %d", len(keys), srv.Calls("ListAccessKeys"), len(want))
	}
	for i, k := range keys {
		if *k.AccessKeyId != want[i].ID || k.Status != "Active" || k.CreateDate == nil || k.CreateDate.IsZero() {
			t.Errorf("key %d: %+v, want %+v", i, k, want[i])
		}
	}
}

// The kind's IAM calls fail as the SDK's IAM client's do on the same
// endpoint: the same code, status and operation, and a request id.
func TestIAMErrorsAreTheSDKs(t *testing.T) {
	srv, admin, r := iamFixture(t)
	ctx := context.Background()
	bad := admin
	bad.SecretAccessKey = "not-the-key"
	sdk := func(creds aws.Credentials) *iam.Client {
		return iam.New(iam.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.StaticCredentialsProvider{Value: creds}, Retryer: aws.NopRetryer{}})
	}
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		fail  string // scripted failure of CreateAccessKey
		rotor func(*iamClient) error
		sdk   func(*iam.Client) error
		code  string
	}{
		{"no such user", admin, "",
			func(c *iamClient) error { return c.deleteAccessKey(ctx, "nobody", "AKIAZZZZZZZZZZZZZZZZ") },
			func(c *iam.Client) error {
				_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("nobody"), AccessKeyId: aws.String("AKIAZZZZZZZZZZZZZZZZ")})
				return err
			}, "NoSuchEntity"},
		{"wrong secret", bad, "",
			func(c *iamClient) error { _, err := c.listAccessKeys(ctx, "alice"); return err },
			func(c *iam.Client) error {
				_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
				return err
			}, "SignatureDoesNotMatch"},
		{"limit", admin, "LimitExceeded",
			func(c *iamClient) error { _, err := c.createAccessKey(ctx, "alice"); return err },
			func(c *iam.Client) error {
				_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
				return err
			}, "LimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != "" {
				srv.FailNext("CreateAccessKey", tc.fail)
			}
			err := tc.rotor(r.iamClient(credentials.StaticCredentialsProvider{Value: tc.creds}))
			if tc.fail != "" {
				srv.FailNext("CreateAccessKey", tc.fail)
			}
			sdkErr := tc.sdk(sdk(tc.creds))
			got, want := awsapitest.ShapeOf(err), awsapitest.ShapeOf(sdkErr)
			if got.RequestID == "" || want.RequestID == "" {
				t.Errorf("rotor's error %v or the SDK's %v has no request id", err, sdkErr)
			}
			got.RequestID, want.RequestID = "", "" // each answer has its own
			if got != want || got.Code != tc.code {
				t.Errorf("rotor's error %+v (%v); the SDK's %+v (%v); want code %s", got, err, want, sdkErr, tc.code)
			}
		})
	}
}

// GetAccessKeyLastUsed's answer is read: when and with which service.
func TestLastUsed(t *testing.T) {
	srv, admin, r := iamFixture(t)
	ctx := context.Background()
	if err := srv.AddUser(iamtest.User{Name: "bob", SelfManage: true}); err != nil {
		t.Fatal(err)
	}
	key, err := srv.SeedKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.iamClient(credentials.StaticCredentialsProvider{Value: key}).listAccessKeys(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	used, err := r.iamClient(credentials.StaticCredentialsProvider{Value: admin}).lastUsed(ctx, key.AccessKeyID)
	if err != nil || used.LastUsedDate == nil || used.LastUsedDate.IsZero() || aws.ToString(used.ServiceName) != "iam" {
		t.Fatalf("lastUsed: %+v, %v; want a date and the service iam", used, err)
	}
}
