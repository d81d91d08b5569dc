package awsapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/awsapi"
	"github.com/rotorhq/rotor/internal/awsapi/awsapitest"
	"github.com/rotorhq/rotor/internal/ssmtest"
)

// The tests call SSM's GetParameter on internal/ssmtest, which verifies
// each request's signature; the SDK's SSM client is here to hold the
// answers to its own.

var ssm = awsapi.Service{ID: "SSM", SigningName: "ssm",
	Endpoint: awsapi.Regional("ssm.{region}", "ssm-fips.{region}", "ssm.{region}", "ssm-fips.{region}")}

func get(ctx context.Context, cfg aws.Config, name string) (*string, error) {
	var out struct{ Parameter *struct{ Value *string } }
	in := struct {
		Name           string
		WithDecryption bool
	}{name, true}
	if err := awsapi.New(cfg, ssm).JSON(ctx, "AmazonSSM", "GetParameter", in, &out); err != nil || out.Parameter == nil {
		return nil, err
	}
	return out.Parameter.Value, nil
}

// Errors have the SDK's shape and codes, so callers and the retryer read
// them alike.
func TestErrorsAreTheSDKs(t *testing.T) {
	srv := ssmtest.New(ssmtest.Config{})
	defer srv.Close()
	ctx := context.Background()
	wrong := ssmtest.Credentials()
	wrong.SecretAccessKey = "not-the-key"
	unknown := ssmtest.Credentials()
	unknown.AccessKeyID = "AKIAROTORSSMUNKNOWN0"
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		param string
		code  string
	}{
		{"missing parameter", ssmtest.Credentials(), "/hub/missing", "ParameterNotFound"},
		{"wrong key", wrong, "/hub/password", "InvalidSignatureException"},
		{"unknown key", unknown, "/hub/password", "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.AWSConfig(tc.creds)
			_, sdkErr := ssmtest.SDKGetParameter(ctx, cfg, tc.param)
			_, err := get(ctx, cfg, tc.param)
			want := awsapitest.ErrorShape{Code: tc.code, Service: "SSM", Operation: "GetParameter", Status: 400}
			for who, e := range map[string]error{"SDK": sdkErr, "rotor": err} {
				got := awsapitest.ShapeOf(e)
				if got.RequestID == "" {
					t.Errorf("%s: %v carries no request id", who, e)
				}
				got.RequestID = ""
				if got != want {
					t.Errorf("%s: %v is %+v, want %+v", who, e, got, want)
				}
			}
			if a, b := awsapitest.ShapeOf(sdkErr).RequestID, awsapitest.ShapeOf(err).RequestID; a == b {
				t.Errorf("two calls carry the same request id %q", a)
			}
		})
	}
}

// Partition names each of the SDK's partitions by its regions and its
// global pseudo-region; a region of no partition is the commercial one's,
// as in the SDK, unless it looks like a sovereign partition rotor does not
// know.
func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-central-2": "aws", "mx-central-1": "aws", "aws-global": "aws", "xx-new-1": "aws",
		"cn-northwest-1": "aws-cn", "aws-cn-global": "aws-cn",
		"us-gov-east-1": "aws-us-gov", "aws-us-gov-global": "aws-us-gov",
		"us-iso-west-1": "aws-iso", "aws-iso-global": "aws-iso",
		"us-isob-east-1": "aws-iso-b", "aws-iso-b-global": "aws-iso-b",
		"eu-isoe-west-1": "aws-iso-e", "aws-iso-e-global": "aws-iso-e",
		"us-isof-south-1": "aws-iso-f", "us-isof-east-1": "aws-iso-f", "aws-iso-f-global": "aws-iso-f",
		"eusc-de-east-1": "aws-eusc",
		"us-isoz-east-1": "", "eusc-fr-west-1": "",
	} {
		if got := awsapi.Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

// Throttling and server errors are retried as the configuration's
// retryer says; client errors are not; a spent budget returns the last
// error.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		status     int
		code       string
		fail       int
		maxAttempt int
		requests   int
		ok         bool
	}{
		{"server error, then the value", 500, "InternalServerError", 2, 0, 3, true},
		{"throttled, then the value", 400, "ThrottlingException", 1, 0, 2, true},
		{"always failing", 500, "InternalServerError", 10, 0, 3, false},
		{"one attempt only", 500, "InternalServerError", 1, 1, 1, false},
		{"access denied is not retried", 400, "AccessDeniedException", 1, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ssmtest.New(ssmtest.Config{})
			defer srv.Close()
			srv.Put("hub-user", "ci-bot")
			srv.FailNext(tc.fail, tc.status, tc.code)
			cfg := srv.AWSConfig(ssmtest.Credentials())
			if tc.maxAttempt > 0 {
				cfg.Retryer = nil
				cfg.RetryMaxAttempts = tc.maxAttempt
			}
			v, err := get(ctx, cfg, "hub-user")
			if n := len(srv.Requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			switch {
			case tc.ok && (err != nil || v == nil || *v != "ci-bot"):
				t.Errorf("want the value after retrying, got %v", err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.code)):
				t.Errorf("want the error %s, got %v", tc.code, err)
			}
		})
	}
}

// A cancelled context stops retrying at once.
func TestRetryStopsWithTheContext(t *testing.T) {
	srv := ssmtest.New(ssmtest.Config{})
	defer srv.Close()
	srv.FailNext(10, 500, "InternalServerError")
	cfg := srv.AWSConfig(ssmtest.Credentials())
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := get(ctx, cfg, "hub-user")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("got %v after %s, want the context's deadline soon", err, time.Since(start))
	}
}

// Configured endpoints win as they do for the SDK: AWS_ENDPOINT_URL_SSM,
// then AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func TestConfiguredEndpoint(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_REGION", "eu-west-1")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "https://ssm.eu-west-1.amazonaws.com"},
		{map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "https://ssm-fips.eu-west-1.amazonaws.com"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{map[string]string{"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://ssm.eu-west-1.amazonaws.com"},
	} {
		for _, k := range []string{"AWS_USE_FIPS_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
			t.Setenv(k, tc.env[k])
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := awsapi.New(cfg, ssm).Endpoint(ctx); err != nil || got != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:2")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := awsapi.New(cfg, ssm).WithEndpoint("http://127.0.0.1:3").Endpoint(ctx); err != nil || got != "http://127.0.0.1:3" {
		t.Errorf("a client's own endpoint: %q, %v; want it to win over AWS_ENDPOINT_URL_SSM", got, err)
	}
	if _, err := awsapi.New(aws.Config{}, ssm).Endpoint(ctx); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("no region: %v", err)
	}
}

// TestClockSkew runs the service's clock 20 minutes ahead: a signature on
// this clock is refused ("Signature expired"), and, as the SDK does, the
// call is retried once signed on the service's clock, read from the
// answer's Date; the client's next call is signed on it from the start.
func TestClockSkew(t *testing.T) {
	ctx := context.Background()
	srv := ssmtest.New(ssmtest.Config{Now: func() time.Time { return time.Now().Add(20 * time.Minute) }})
	defer srv.Close()
	srv.Put("hub-user", "ci-bot")
	cfg := srv.AWSConfig(ssmtest.Credentials())
	cfg.Retryer = nil // the SDK's standard retryer

	once := cfg
	once.RetryMaxAttempts = 1
	_, err := get(ctx, once, "hub-user")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidSignatureException" || !strings.Contains(api.ErrorMessage(), "Signature expired") {
		t.Fatalf("with one attempt: %v, want InvalidSignatureException: Signature expired", err)
	}

	for who, call := range map[string]func() (*string, error){
		"SDK":   func() (*string, error) { return ssmtest.SDKGetParameter(ctx, cfg, "hub-user") },
		"rotor": func() (*string, error) { return get(ctx, cfg, "hub-user") },
	} {
		before := srv.Received()
		v, err := call()
		if err != nil || v == nil || *v != "ci-bot" {
			t.Fatalf("%s: %v, want the value after one correction", who, err)
		}
		if n := srv.Received() - before; n != 2 {
			t.Errorf("%s: %d requests, want 2 (one refused, one signed on the service's clock)", who, n)
		}
	}

	c := awsapi.New(cfg, ssm)
	var out struct{ Parameter *struct{ Value *string } }
	in := struct{ Name string }{"hub-user"}
	for i, want := range []int{2, 1} {
		before := srv.Received()
		if err := c.JSON(ctx, "AmazonSSM", "GetParameter", in, &out); err != nil {
			t.Fatal(err)
		}
		if n := srv.Received() - before; n != want {
			t.Errorf("call %d of one client: %d requests, want %d", i+1, n, want)
		}
	}

	// A signature refused for another reason is not retried, whatever the
	// clocks say.
	wrong := ssmtest.Credentials()
	wrong.SecretAccessKey = "not-the-key"
	bad := srv.AWSConfig(wrong)
	bad.Retryer = nil
	c = awsapi.New(bad, ssm)
	if err := c.JSON(ctx, "AmazonSSM", "GetParameter", in, &out); err == nil {
		t.Fatal("a wrong key was accepted")
	}
	before := srv.Received()
	if err := c.JSON(ctx, "AmazonSSM", "GetParameter", in, &out); !errors.As(err, &api) || api.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong key: %v", err)
	}
	if n := srv.Received() - before; n != 1 {
		t.Errorf("a wrong key on the service's clock: %d requests, want 1", n)
	}
}

// A service's SigningRegion signs requests to the endpoint its Endpoint
// resolves; a configured endpoint is signed for the configured region.
// An answer without the action's Result is an error, not an empty result.
func TestQuery(t *testing.T) {
	var scopes []string
	body := `<GetThingResponse><GetThingResult><Name>x</Name></GetThingResult></GetThingResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("Action") != "GetThing" || r.Form.Get("Version") != "2020-01-01" || r.Form.Get("Id") != "a b&c" ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(400)
			return
		}
		_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		scope, _, _ = strings.Cut(scope, ",")
		scopes = append(scopes, scope)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	global := awsapi.Service{ID: "Thing", SigningName: "thing",
		Endpoint:      func(string, bool, bool) (string, bool) { return srv.URL, true },
		SigningRegion: func(string) string { return "us-east-1" }}
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	ctx := context.Background()
	var out struct{ Name string }
	for _, c := range []*awsapi.Client{awsapi.New(cfg, global), awsapi.New(cfg, global).WithEndpoint(srv.URL)} {
		if err := c.Query(ctx, "GetThing", "2020-01-01", url.Values{"Id": {"a b&c"}}, &out); err != nil || out.Name != "x" {
			t.Fatalf("Query: %+v, %v", out, err)
		}
	}
	if len(scopes) != 2 || !strings.Contains(scopes[0], "/us-east-1/thing/") || !strings.Contains(scopes[1], "/eu-west-1/thing/") {
		t.Errorf("signed for %q; want us-east-1 for the resolved endpoint, eu-west-1 for the configured one", scopes)
	}
	body = `<html><body>a proxy's page</body></html>`
	var de *smithy.DeserializationError
	if err := awsapi.New(cfg, global).Query(ctx, "GetThing", "2020-01-01", url.Values{"Id": {"a b&c"}}, &out); !errors.As(err, &de) {
		t.Errorf("an answer without GetThingResult: %v, want a deserialization error", err)
	}
}
