package metrics

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Calls to external services (AWS APIs, JFrog, Docker Hub, ECR registries)
// are counted by service and result, and timed, by an AWS SDK middleware
// (AWSCalls) and an http.RoundTripper (Transport). They are process-wide:
// every Metrics serves them, and a process that serves no metrics pays
// only the counting.

// Results of a call.
const (
	ResultOK          = "ok"           // 1xx–3xx
	ResultClientError = "client_error" // 4xx: refused (auth, validation, not found, throttled)
	ResultServerError = "server_error" // 5xx
	ResultError       = "error"        // no answer: connection, timeout, cancelled
)

type external struct {
	calls    *counterVec
	duration *histogramVec
}

var externalMetrics = sync.OnceValue(func() *external {
	return &external{
		calls: newCounterVec("rotor_external_calls_total",
			"Calls to external services (AWS APIs, JFrog, Docker Hub, registries) by service and result (ok, client_error, server_error, error).",
			"service", "result"),
		duration: newHistogramVec("rotor_external_call_duration_seconds", "Duration of calls to external services by service.",
			[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "service"),
	}
})

// ObserveCall records one call to service that ended with HTTP status
// (0 when there was no answer) after d.
func ObserveCall(service string, status int, d time.Duration) {
	m := externalMetrics()
	result := resultOf(status)
	m.calls.inc(service, result)
	m.duration.observe(d.Seconds(), service)
	if f := onCall.Load(); f != nil {
		(*f)(service, result, d)
	}
}

var onCall atomic.Pointer[func(service, result string, d time.Duration)]

// OnCall has f told of every external call too (the Lambda function's
// embedded-metric-format lines); nil stops it.
func OnCall(f func(service, result string, d time.Duration)) {
	if f == nil {
		onCall.Store(nil)
		return
	}
	onCall.Store(&f)
}

func resultOf(status int) string {
	switch {
	case status == 0:
		return ResultError
	case status >= 500:
		return ResultServerError
	case status >= 400:
		return ResultClientError
	}
	return ResultOK
}

// Transport counts the requests of base (http.DefaultTransport when nil)
// as calls to service.
func Transport(service string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{service: service, base: base}
}

// HTTPClient is an http.Client with timeout whose calls count as calls to
// service.
func HTTPClient(service string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: Transport(service, nil)}
}

type transport struct {
	service string
	base    http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	ObserveCall(t.service, status, time.Since(start))
	return resp, err
}

// AWSCalls adds to cfg a middleware that counts every AWS API call as a
// call to its service (iam, sts, ecr, secretsmanager, ssm, sns, ses, …),
// retries included.
func AWSCalls(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("rotorExternalCalls",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleDeserialize(ctx, in)
				status := 0
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
					status = resp.StatusCode
				} else {
					var re *smithyhttp.ResponseError
					if errors.As(err, &re) && re.Response != nil {
						status = re.Response.StatusCode
					}
				}
				ObserveCall(serviceName(ctx), status, time.Since(start))
				return out, md, err
			}), middleware.After)
	})
}

// serviceName is the lower-case service id of an AWS call ("secrets
// manager" becomes "secretsmanager").
func serviceName(ctx context.Context) string {
	id := awsmiddleware.GetServiceID(ctx)
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == ' ' || c == '-':
		default:
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "aws"
	}
	return string(b)
}
