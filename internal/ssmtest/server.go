// Package ssmtest runs a local SSM Parameter Store endpoint for tests. It
// speaks the JSON 1.1 protocol the AWS SDK uses (X-Amz-Target:
// AmazonSSM.GetParameter), verifies every request's SigV4 signature with
// the actual key (internal/sigv4), answers SSM's error shapes
// (ParameterNotFound, AccessDeniedException, UnknownOperationException),
// and returns a SecureString's plaintext only with WithDecryption. It also
// serves the AWS Parameters and Secrets Lambda extension's local HTTP
// interface, which checks the X-Aws-Parameters-Secrets-Token header.
package ssmtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/rotorhq/rotor/internal/sigv4"
)

// Test credentials. They are not real.
const (
	AccessKeyID     = "AKIAROTORSSMTEST0001"
	SecretAccessKey = "rotor/ssm/test/secret/key/000000000000000"
	Region          = "us-east-1"
)

// Credentials returns the credentials the server accepts.
func Credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "ssmtest"}
}

// Server is a running SSM endpoint; URL is its BaseEndpoint.
type Server struct {
	*httptest.Server
	verifier *sigv4.Verifier
	now      func() time.Time
	received atomic.Int64

	mu       sync.Mutex
	params   map[string]param
	calls    int
	requests []Request
	faults   []fault
}

// Request is what the server received of one signed request.
type Request struct {
	Target, ContentType string
	Body                []byte
}

// fault is an error answer given instead of the next request's.
type fault struct {
	status int
	code   string
}

type param struct {
	typ, value string
}

// Config configures a Server. The zero Config accepts Credentials in Region.
type Config struct {
	// Credentials maps access key ids to secret keys; Credentials() when nil.
	Credentials map[string]string
	// SessionTokens maps temporary key ids to their session token.
	SessionTokens map[string]string
	// Now is the server's clock, which checks a signature's time and
	// dates each answer, as AWS's does; time.Now when nil.
	Now func() time.Time
}

// New starts a server; it is closed when the test ends.
func New(cfg Config) *Server {
	creds := cfg.Credentials
	if creds == nil {
		creds = map[string]string{AccessKeyID: SecretAccessKey}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{params: map[string]param{}, now: now,
		verifier: &sigv4.Verifier{Credentials: creds, SessionTokens: cfg.SessionTokens, Service: "ssm", Region: Region, Now: now}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Put stores a String parameter.
func (s *Server) Put(name, value string) { s.put(name, "String", value) }

// PutSecure stores a SecureString parameter.
func (s *Server) PutSecure(name, value string) { s.put(name, "SecureString", value) }

func (s *Server) put(name, typ, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = param{typ: typ, value: value}
}

// FailNext answers the next n requests (after their signature is
// verified) with status and the error code, as SSM does when it throttles
// (400 ThrottlingException) or fails (500 InternalServerError).
func (s *Server) FailNext(n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status, code})
	}
}

// Requests returns the signed requests received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Received counts every HTTP request, signed or not, refused or answered.
func (s *Server) Received() int { return int(s.received.Load()) }

// Calls counts the GetParameter requests answered with a value.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	n := s.received.Add(1)
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	// Every answer carries its request id, as SSM's do.
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		fail(w, http.StatusBadRequest, "SerializationException", "want a POST with a JSON body")
		return
	}
	if r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		// The AWS JSON 1.1 protocol's content type, which SSM requires.
		fail(w, http.StatusBadRequest, "SerializationException", "want Content-Type application/x-amz-json-1.1")
		return
	}
	if _, err := s.verifier.Verify(r, body); err != nil {
		code := "UnrecognizedClientException"
		var e *sigv4.Error
		if errors.As(err, &e) && e.Kind != sigv4.KindUnknownKey {
			code = "InvalidSignatureException"
		}
		fail(w, http.StatusBadRequest, code, err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Target: r.Header.Get("X-Amz-Target"), ContentType: r.Header.Get("Content-Type"), Body: body})
	var f *fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		fail(w, f.status, f.code, "injected by the test")
		return
	}
	if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" {
		fail(w, http.StatusBadRequest, "UnknownOperationException", "only AmazonSSM.GetParameter is served")
		return
	}
	var in struct {
		Name           string
		WithDecryption bool
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		fail(w, http.StatusBadRequest, "ValidationException", "Name is required")
		return
	}
	out, ok := s.get(in.Name, in.WithDecryption)
	if !ok {
		fail(w, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// get returns GetParameter's output for name.
func (s *Server) get(name string, decrypt bool) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.params[name]
	if !ok {
		return nil, false
	}
	v := p.value
	if p.typ == "SecureString" && !decrypt {
		v = base64.StdEncoding.EncodeToString([]byte("kms-ciphertext:" + name)) // never the plaintext
	}
	return map[string]any{"Parameter": map[string]any{
		"Name": name, "Type": p.typ, "Value": v, "Version": 1,
		"ARN": "arn:aws:ssm:" + Region + ":123456789012:parameter/" + name,
	}}, true
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// AWSConfig returns an AWS configuration for this endpoint with creds, its
// retryer without backoff so that retries do not slow tests.
func (s *Server) AWSConfig(creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(s.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

// SDKGetParameter is GetParameter (WithDecryption) through the SDK's own
// SSM client, for tests that hold rotor's call to it.
func SDKGetParameter(ctx context.Context, cfg aws.Config, name string) (*string, error) {
	out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil || out.Parameter == nil {
		return nil, err
	}
	return out.Parameter.Value, nil
}
