// Package awsapi makes single AWS API calls for the few actions rotor
// needs of a service whose SDK client costs more than the call: the
// generated clients of the AWS SDK for Go v2 build their whole service's
// schemas and endpoint tables when the process starts (SSM's alone takes
// several milliseconds in every rotor command), for one action each here.
// It speaks the AWS JSON 1.1, REST JSON and Query protocols.
//
// Everything but the request's encoding comes from the SDK: credentials,
// retryer and HTTP client from the aws.Config, the SigV4 signature from
// the SDK's signer, configured endpoints from the SDK's configuration
// sources, and errors have the SDK's shape (a smithy.OperationError
// around an awshttp.ResponseError around a smithy.APIError), so errors.As
// and the retryer read them as they read the SDK's. A clock that is off is
// corrected as the SDK corrects it: from the Date of the service's answers.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Service is one AWS API as the SDK's client for it knows it.
type Service struct {
	// ID is the SDK's service id ("SSM"): errors name it, and
	// AWS_ENDPOINT_URL_<ID> and the shared config's services section set
	// its endpoint.
	ID string
	// SigningName is SigV4's service name ("ssm").
	SigningName string
	// Endpoint is the service's regional endpoint; false in a region
	// whose partition it does not know.
	Endpoint func(region string, fips, dualStack bool) (string, bool)
	// SigningRegion, when set, is the region requests to the endpoint
	// Endpoint resolves are signed for: a global service's (IAM signs for
	// us-east-1 from every region of its partition). Unset, and for an
	// endpoint the configuration sets, it is the configured region.
	SigningRegion func(region string) string
}

// Client calls one service.
type Client struct {
	svc     Service
	cfg     aws.Config
	signer  *v4.Signer
	http    aws.HTTPClient
	retryer aws.Retryer
	base    string // an endpoint that wins over all configuration
	// skew is the service's clock minus this one's, in nanoseconds, as the
	// Date of its last answer measured it; requests are signed with it.
	skew *atomic.Int64
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 4 << 20

// New returns a Client calling svc with cfg's credentials, retry settings,
// HTTP client, region and endpoint settings.
func New(cfg aws.Config, svc Service) *Client {
	c := &Client{svc: svc, cfg: cfg, signer: v4.NewSigner(), http: cfg.HTTPClient, skew: new(atomic.Int64)}
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

// WithEndpoint returns c calling endpoint, whatever the configuration
// says: a client option's BaseEndpoint in the SDK's terms.
func (c *Client) WithEndpoint(endpoint string) *Client {
	d := *c
	d.base = endpoint
	return &d
}

// JSON calls an action of the AWS JSON 1.1 protocol: POST / with the
// X-Amz-Target targetPrefix.operation, in as the JSON document, the
// answer decoded into out.
func (c *Client) JSON(ctx context.Context, targetPrefix, operation string, in, out any) error {
	return c.jsonCall(ctx, operation, http.MethodPost, "/", map[string]string{
		"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": targetPrefix + "." + operation,
	}, in, out)
}

// REST calls an action of the REST JSON protocol: method path with in as
// the JSON body, the answer decoded into out.
func (c *Client) REST(ctx context.Context, operation, method, path string, in, out any) error {
	return c.jsonCall(ctx, operation, method, path, map[string]string{"Content-Type": "application/json"}, in, out)
}

func (c *Client) jsonCall(ctx context.Context, operation, method, path string, header map[string]string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return c.opError(operation, &smithy.SerializationError{Err: err})
	}
	return c.call(ctx, operation, request{method: method, path: path, header: header, body: body}, jsonProtocol, out)
}

// Query calls an action of the AWS Query protocol (IAM's, SNS's): POST /
// with Action, Version and params as a form, the answer's
// <operation>Result element decoded into out with encoding/xml; with a
// non-nil out, an answer without that element is an error.
func (c *Client) Query(ctx context.Context, operation, version string, params url.Values, out any) error {
	form := url.Values{"Action": {operation}, "Version": {version}}
	for k, v := range params {
		form[k] = v
	}
	r := request{method: http.MethodPost, path: "/", body: []byte(form.Encode()),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
	return c.call(ctx, operation, r, queryProtocol, out)
}

// request is what one attempt sends.
type request struct {
	method, path string
	header       map[string]string
	body         []byte
}

// protocol reads a protocol's answers: decode puts a success's body into
// out; apiError reads a refusal's code, message and request id.
type protocol struct {
	decode   func(operation string, answer []byte, out any) error
	apiError func(answer []byte, h http.Header) (code, message, requestID string)
}

var jsonProtocol = protocol{
	decode: func(operation string, answer []byte, out any) error {
		if len(bytes.TrimSpace(answer)) == 0 {
			return nil
		}
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("the answer is not %s's JSON", operation)
		}
		return nil
	},
	apiError: func(answer []byte, h http.Header) (string, string, string) {
		code, msg, _ := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(answer)))
		if t := h.Get("X-Amzn-ErrorType"); t != "" {
			code = restjson.SanitizeErrorCode(t)
		}
		return code, msg, h.Get("X-Amzn-RequestId")
	},
}

var queryProtocol = protocol{
	decode: func(operation string, answer []byte, out any) error {
		// <OperationResponse><OperationResult>…</OperationResult>
		// <ResponseMetadata>…</ResponseMetadata></OperationResponse>
		d := xml.NewDecoder(bytes.NewReader(answer))
		depth := 0
		for {
			tok, err := d.Token()
			if err == io.EOF && depth == 0 {
				// As the SDK: an answer without the result is not the
				// service's (a proxy's page, say).
				return fmt.Errorf("the answer has no %sResult", operation)
			}
			if err != nil {
				return fmt.Errorf("the answer is not %s's XML", operation)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				if depth == 1 && t.Name.Local == operation+"Result" {
					if err := d.DecodeElement(out, &t); err != nil {
						return fmt.Errorf("the answer is not %s's XML", operation)
					}
					return nil
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
	},
	apiError: func(answer []byte, h http.Header) (string, string, string) {
		// <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>
		e, _ := awsxml.GetErrorResponseComponents(bytes.NewReader(answer), false)
		id := e.RequestID
		if id == "" {
			id = h.Get("X-Amzn-RequestId")
		}
		return e.Code, e.Message, id
	},
}

func (c *Client) opError(operation string, err error) error {
	return &smithy.OperationError{ServiceID: c.svc.ID, OperationName: operation, Err: err}
}

func (c *Client) call(ctx context.Context, operation string, r request, p protocol, out any) error {
	endpoint, signingRegion, err := c.resolve(ctx)
	if err != nil {
		return c.opError(operation, err)
	}
	target := strings.TrimSuffix(endpoint, "/") + r.path
	// Clock skew is corrected as the SDK does (the Clock Skew Correction
	// SEP): the first attempt is signed on this clock plus the client's
	// skew, each retry on the skew the previous answer measured (none
	// when it measured none), a signature refused with a skew over 4
	// minutes is retried, and the last answer's skew, when it measured
	// one, is kept for the client's next call.
	skew := time.Duration(c.skew.Load())
	var m measurement
	done := func(err error) error {
		if m.ok {
			c.skew.Store(int64(m.skew))
		}
		if err != nil {
			return c.opError(operation, err)
		}
		return nil
	}
	var release func(error) error
	for attempt := 1; ; attempt++ {
		var answer []byte
		answer, m, err = c.send(ctx, r, target, signingRegion, p, skew)
		if release != nil {
			_ = release(err)
		}
		if err == nil {
			if out != nil {
				if err := p.decode(operation, answer, out); err != nil {
					return done(&smithy.DeserializationError{Err: err})
				}
			}
			return done(nil)
		}
		if m.ok && isClockSkewError(err) && (skew-m.skew).Abs() > skewThreshold {
			err = &clockSkewError{err}
		}
		if ctx.Err() != nil || !c.retryer.IsErrorRetryable(err) {
			return done(err)
		}
		if attempt >= c.retryer.MaxAttempts() {
			return done(&retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		var terr error
		if release, terr = c.retryer.GetRetryToken(ctx, err); terr != nil {
			return done(err) // the retry quota is spent: the last error stands
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return done(err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return done(ctx.Err())
		case <-t.C:
		}
		skew = m.skew // 0 when the answer measured none
	}
}

// skewThreshold is the difference between the signing time and the
// service's clock over which a refused signature counts as clock skew.
const skewThreshold = 4 * time.Minute

// maxTrustedRequestDuration bounds the round trip whose answer's Date
// measures the skew.
const maxTrustedRequestDuration = 15 * time.Minute

// isClockSkewError tells whether err's code is one that clock skew can
// cause (the SDK's list): then it is retried when the skew is large.
func isClockSkewError(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure", "RequestTimeTooSkewed", "AccessDeniedException":
		return true
	}
	return false
}

// clockSkewError is an error the service answered because this clock is
// off: the retryer retries it, signed on the service's clock.
type clockSkewError struct{ err error }

func (e *clockSkewError) Error() string        { return "probable clock skew: " + e.err.Error() }
func (e *clockSkewError) Unwrap() error        { return e.err }
func (e *clockSkewError) RetryableError() bool { return true }

// measurement is the skew an answer's Date measured; the zero value is
// none.
type measurement struct {
	skew time.Duration
	ok   bool
}

// measure reads the service's clock from an answer received at
// responseAt for a request sent at requestAt, as the SDK does: not from
// a cached answer (Age) or a round trip over 15 minutes.
func measure(h http.Header, requestAt, responseAt time.Time) measurement {
	served, err := http.ParseTime(h.Get("Date"))
	if err != nil || h.Get("Age") != "" || responseAt.Sub(requestAt) > maxTrustedRequestDuration {
		return measurement{}
	}
	return measurement{skew: served.Sub(responseAt), ok: true}
}

// send makes one attempt of r, signed for signingRegion at this clock's
// time plus skew, and returns the answer's body and the skew its Date
// measured.
func (c *Client) send(ctx context.Context, r request, target, signingRegion string, p protocol, skew time.Duration) ([]byte, measurement, error) {
	if c.cfg.Credentials == nil {
		return nil, measurement{}, errors.New("no AWS credentials in the configuration")
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, measurement{}, fmt.Errorf("get the AWS credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(r.body))
	if err != nil {
		return nil, measurement{}, err
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "rotor")
	sum := sha256.Sum256(r.body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.svc.SigningName, signingRegion, time.Now().Add(skew).UTC()); err != nil {
		return nil, measurement{}, fmt.Errorf("sign the request: %w", err)
	}
	requestAt := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		// The retryer recognises connection errors inside this wrapper,
		// as it does the SDK's.
		return nil, measurement{}, &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	m := measure(resp.Header, requestAt, time.Now())
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, m, &smithy.DeserializationError{Err: fmt.Errorf("read the answer: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer, m, nil
	}
	code, msg, requestID := p.apiError(answer, resp.Header)
	if code == "" {
		code = "UnknownError"
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return nil, m, &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: resp},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault},
		},
		RequestID: requestID,
	}
}

// What the SDK's configuration sources (the environment and the shared
// config file) answer about endpoints.
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

// Endpoint resolves the service's endpoint as the SDK does: a configured
// endpoint (AWS_ENDPOINT_URL_<ID> or the shared config's services
// section, then AWS_ENDPOINT_URL or aws.Config.BaseEndpoint) unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the region's, FIPS and dual
// stack as configured.
func (c *Client) Endpoint(ctx context.Context) (string, error) {
	ep, _, err := c.resolve(ctx)
	return ep, err
}

// resolve returns the endpoint, as Endpoint does, and the region requests
// to it are signed for.
func (c *Client) resolve(ctx context.Context) (endpoint, signingRegion string, err error) {
	if c.base != "" {
		return c.base, c.cfg.Region, nil
	}
	cfg := c.cfg
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
				if v, found, err := src.GetServiceBaseEndpoint(ctx, c.svc.ID); err == nil && found && v != "" {
					return v, cfg.Region, nil
				}
			}
		}
		if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
			return *cfg.BaseEndpoint, cfg.Region, nil
		}
	}
	if cfg.Region == "" {
		return "", "", errors.New("no AWS region: set AWS_REGION, or a region in the AWS profile")
	}
	var fips, dual, fipsFound, dualFound bool
	for _, s := range cfg.ConfigSources {
		if src, ok := s.(fipsSource); ok && !fipsFound {
			if v, found, err := src.GetUseFIPSEndpoint(ctx); err == nil && found {
				fips, fipsFound = v == aws.FIPSEndpointStateEnabled, true
			}
		}
		if src, ok := s.(dualStackSource); ok && !dualFound {
			if v, found, err := src.GetUseDualStackEndpoint(ctx); err == nil && found {
				dual, dualFound = v == aws.DualStackEndpointStateEnabled, true
			}
		}
	}
	ep, ok := c.svc.Endpoint(cfg.Region, fips, dual)
	if !ok {
		return "", "", fmt.Errorf("no %s endpoint known for the region %s: set AWS_ENDPOINT_URL_%s", c.svc.ID, cfg.Region, strings.ToUpper(strings.ReplaceAll(c.svc.ID, " ", "_")))
	}
	signingRegion = cfg.Region
	if c.svc.SigningRegion != nil {
		signingRegion = c.svc.SigningRegion(cfg.Region)
	}
	return ep, signingRegion, nil
}

// Regional returns a Service.Endpoint from the four host name forms of a
// service ("api.ecr.{region}", FIPS "api.ecr-fips.{region}", dual stack
// "ecr.{region}", both "ecr-fips.{region}"), followed by the region's
// partition's DNS suffix.
func Regional(plain, fips, dualStack, dualStackFIPS string) func(region string, fips, dualStack bool) (string, bool) {
	return func(region string, useFIPS, useDual bool) (string, bool) {
		suffix, dualSuffix, ok := partition(region)
		if !ok {
			return "", false
		}
		host := plain
		switch {
		case useFIPS && useDual:
			host, suffix = dualStackFIPS, dualSuffix
		case useFIPS:
			host = fips
		case useDual:
			host, suffix = dualStack, dualSuffix
		}
		return "https://" + strings.ReplaceAll(host, "{region}", region) + "." + suffix, true
	}
}

// Partition names the partition of region among those rotor knows
// ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e",
// "aws-iso-f", "aws-eusc"), or "" for a region that looks like a partition
// rotor does not know (an ISO or European sovereign one it has no DNS
// suffix for), where a caller must be given the endpoint. The SDK's global
// pseudo-regions (aws-global, aws-cn-global, …) are their partition's.
// Other regions are the commercial partition's, as in the SDK.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"), region == "aws-cn-global":
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"), region == "aws-us-gov-global":
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"), region == "aws-iso-b-global":
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"), region == "aws-iso-global":
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"), region == "aws-iso-e-global":
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"), region == "aws-iso-f-global":
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-de-"):
		return "aws-eusc"
	case strings.Contains(region, "-iso"), strings.HasPrefix(region, "eusc-"):
		return ""
	}
	return "aws"
}

// partition returns the DNS suffixes (IPv4 and dual stack) of region's
// partition, for the partitions rotor knows.
func partition(region string) (suffix, dualStackSuffix string, ok bool) {
	switch Partition(region) {
	case "aws", "aws-us-gov":
		return "amazonaws.com", "api.aws", true
	case "aws-cn":
		return "amazonaws.com.cn", "api.amazonwebservices.com.cn", true
	case "aws-iso-b":
		return "sc2s.sgov.gov", "api.aws.scloud", true
	case "aws-iso":
		return "c2s.ic.gov", "api.aws.ic.gov", true
	case "aws-iso-e":
		return "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", true
	case "aws-iso-f":
		return "csp.hci.ic.gov", "api.aws.hci.ic.gov", true
	case "aws-eusc":
		return "amazonaws.eu", "api.amazonwebservices.eu", true
	}
	return "", "", false
}
