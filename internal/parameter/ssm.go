package parameter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ssmClient makes SSM's GetParameter call, the one Parameter Store action
// rotor uses, in the AWS JSON 1.1 protocol the SDK's SSM client speaks:
// credentials, retryer and HTTP client come from the aws.Config, the
// request is signed by the SDK's SigV4 signer, and errors have the SDK's
// shape (a smithy.OperationError around an awshttp.ResponseError around a
// smithy.APIError), so errors.As and the retryer read them as they read
// the SDK's. The SDK's SSM client itself is not linked: its package
// builds the schemas of the whole SSM API when the process starts, several
// milliseconds in every rotor command, for this one call.
type ssmClient struct {
	cfg     aws.Config
	signer  *v4.Signer
	http    aws.HTTPClient
	retryer aws.Retryer
}

// maxAnswer bounds what is read of an answer: a parameter is at most 8 KB.
const maxAnswer = 1 << 20

func newSSMClient(cfg aws.Config) *ssmClient {
	c := &ssmClient{cfg: cfg, signer: v4.NewSigner(), http: cfg.HTTPClient}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		c.retryer = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, maxAttempts(cfg.RetryMaxAttempts))
		})
	default:
		c.retryer = retry.NewStandard(maxAttempts(cfg.RetryMaxAttempts))
	}
	return c
}

func maxAttempts(n int) func(*retry.StandardOptions) {
	return func(o *retry.StandardOptions) {
		if n > 0 {
			o.MaxAttempts = n
		}
	}
}

// getParameter returns the parameter's value, decrypted if it is a
// SecureString; nil if the answer holds none.
func (c *ssmClient) getParameter(ctx context.Context, name string) (*string, error) {
	body, err := json.Marshal(struct {
		Name           string
		WithDecryption bool
	}{name, true})
	if err != nil {
		return nil, err
	}
	answer, err := c.call(ctx, "GetParameter", body)
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: "SSM", OperationName: "GetParameter", Err: err}
	}
	var out struct {
		Parameter *struct {
			Value *string
		}
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, &smithy.OperationError{ServiceID: "SSM", OperationName: "GetParameter",
			Err: &smithy.DeserializationError{Err: errors.New("the answer is not GetParameter's JSON")}}
	}
	if out.Parameter == nil {
		return nil, nil
	}
	return out.Parameter.Value, nil
}

// call sends one action, retrying as the retryer decides, and returns the
// answer's body.
func (c *ssmClient) call(ctx context.Context, action string, body []byte) ([]byte, error) {
	endpoint, err := ssmEndpoint(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	var release func(error) error
	for attempt := 1; ; attempt++ {
		answer, err := c.send(ctx, endpoint, action, body)
		if release != nil {
			_ = release(err)
		}
		if err == nil || ctx.Err() != nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			if err != nil && attempt >= c.retryer.MaxAttempts() && attempt > 1 {
				err = &retry.MaxAttemptsError{Attempt: attempt, Err: err}
			}
			return answer, err
		}
		var terr error
		if release, terr = c.retryer.GetRetryToken(ctx, err); terr != nil {
			return nil, err // the retry quota is spent: the last error stands
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// send makes one signed attempt.
func (c *ssmClient) send(ctx context.Context, endpoint, action string, body []byte) ([]byte, error) {
	if c.cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials in the configuration")
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("get the AWS credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM."+action)
	req.Header.Set("User-Agent", "rotor")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.cfg.Region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The retryer recognises connection errors inside this wrapper,
		// as it does the SDK's.
		return nil, &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &smithy.DeserializationError{Err: fmt.Errorf("read the answer: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer, nil
	}
	code, msg, _ := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(answer)))
	if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
		code = restjson.SanitizeErrorCode(h)
	}
	if code == "" {
		code = "UnknownError"
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return nil, &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: resp},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault},
		},
		RequestID: resp.Header.Get("X-Amzn-RequestId"),
	}
}

// endpointSource is what the SDK's configuration sources (the environment
// and the shared config file) answer about endpoints.
type (
	serviceEndpointSource interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	ignoreEndpointsSource interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	fipsSource interface {
		GetUseFIPSEndpoint(ctx context.Context) (aws.FIPSEndpointState, bool, error)
	}
	dualStackSource interface {
		GetUseDualStackEndpoint(ctx context.Context) (aws.DualStackEndpointState, bool, error)
	}
)

// ssmEndpoint resolves SSM's endpoint as the SDK does: a configured
// endpoint (AWS_ENDPOINT_URL_SSM or the shared config's services section,
// then AWS_ENDPOINT_URL or aws.Config.BaseEndpoint) unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the region's, FIPS and dual
// stack as configured.
func ssmEndpoint(ctx context.Context, cfg aws.Config) (string, error) {
	ignore := false
	for _, s := range cfg.ConfigSources {
		if src, ok := s.(ignoreEndpointsSource); ok {
			if v, found, err := src.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				ignore = v
				break
			}
		}
	}
	if !ignore {
		for _, s := range cfg.ConfigSources {
			if src, ok := s.(serviceEndpointSource); ok {
				if v, found, err := src.GetServiceBaseEndpoint(ctx, "SSM"); err == nil && found && v != "" {
					return v, nil
				}
			}
		}
		if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
			return *cfg.BaseEndpoint, nil
		}
	}
	if cfg.Region == "" {
		return "", errors.New("no AWS region: set AWS_REGION, or a region in the AWS profile")
	}
	var fips, dual bool
	for _, s := range cfg.ConfigSources {
		if src, ok := s.(fipsSource); ok && !fips {
			if v, found, err := src.GetUseFIPSEndpoint(ctx); err == nil && found {
				fips = v == aws.FIPSEndpointStateEnabled
			}
		}
		if src, ok := s.(dualStackSource); ok && !dual {
			if v, found, err := src.GetUseDualStackEndpoint(ctx); err == nil && found {
				dual = v == aws.DualStackEndpointStateEnabled
			}
		}
	}
	return regionEndpoint(cfg.Region, fips, dual)
}

// regionEndpoint is SSM's endpoint in region, in the partitions rotor
// knows; elsewhere the endpoint must be configured.
func regionEndpoint(region string, fips, dual bool) (string, error) {
	suffix, dualSuffix := "amazonaws.com", "api.aws"
	switch {
	case strings.HasPrefix(region, "cn-"):
		suffix, dualSuffix = "amazonaws.com.cn", "api.amazonwebservices.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		fips = fips && dual // GovCloud's IPv4 SSM endpoints are FIPS endpoints
	case strings.Contains(region, "-iso"), strings.HasPrefix(region, "eusc-"):
		return "", fmt.Errorf("no SSM endpoint known for region %s: set AWS_ENDPOINT_URL_SSM", region)
	}
	host := "ssm"
	if fips {
		host = "ssm-fips"
	}
	if dual {
		suffix = dualSuffix
	}
	return "https://" + host + "." + region + "." + suffix, nil
}
