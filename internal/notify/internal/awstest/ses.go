package awstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/rotorhq/rotor/internal/sigv4"
)

// Mail is one accepted SendEmail.
type Mail struct {
	From      string
	To        []string
	Subject   string
	Text      string
	MessageID string
}

// SES is a local SES v2 endpoint for SendEmail (REST JSON,
// POST /v2/email/outbound-emails). Senders must be verified identities
// (an address or its domain); in sandbox mode, so must every recipient.
type SES struct {
	*httptest.Server
	verifier *sigv4.Verifier

	mu       sync.Mutex
	verified map[string]bool
	sandbox  bool
	sent     []Mail
	fail     []int
}

// NewSES starts an SES endpoint that trusts the given identities.
func NewSES(now func() time.Time, sandbox bool, identities ...string) *SES {
	s := &SES{verified: map[string]bool{}, sandbox: sandbox}
	for _, id := range identities {
		s.verified[strings.ToLower(id)] = true
	}
	s.verifier = newVerifier("ses", now)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Client returns a real SDK client for this endpoint, SDK retries off.
func (s *SES) Client(creds aws.Credentials) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      aws.NewCredentialsCache(staticCreds(creds)),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Server.Client(),
	})
}

// Config returns an AWS configuration for this endpoint, retries off.
func (s *SES) Config(creds aws.Credentials) aws.Config { return config(s.Server, creds) }

// FailNext makes the next requests answer these statuses.
func (s *SES) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Sent returns the accepted mails.
func (s *SES) Sent() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.sent...)
}

func sesFail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

type sesContent struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset,omitempty"`
}

type sendEmailRequest struct {
	FromEmailAddress *string
	Destination      *struct {
		ToAddresses, CcAddresses, BccAddresses []string
	}
	Content *struct {
		Simple *struct {
			Subject *sesContent
			Body    *struct{ Text, Html *sesContent }
		}
		Raw      json.RawMessage
		Template json.RawMessage
	}
	ReplyToAddresses []string
	EmailTags        json.RawMessage
	// Other SendEmail members are accepted and ignored.
	ConfigurationSetName, FromEmailAddressIdentityArn, FeedbackForwardingEmailAddress string
}

func (s *SES) isVerified(addr string) bool {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return false
	}
	email := strings.ToLower(a.Address)
	_, domain, _ := strings.Cut(email, "@")
	return s.verified[email] || s.verified[domain]
}

func (s *SES) serve(w http.ResponseWriter, r *http.Request) {
	body, ok := admit(&s.mu, &s.fail, s.verifier, r,
		func(status int, code, msg string) { sesFail(w, status, code, msg) }, "BadRequestException", "InternalFailure")
	if !ok {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		sesFail(w, 404, "NotFoundException", "no such operation")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		sesFail(w, 400, "BadRequestException", "body must be JSON")
		return
	}
	var req sendEmailRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		sesFail(w, 400, "BadRequestException", "invalid request: "+err.Error())
		return
	}
	m, status, code, msg := s.check(req)
	if code != "" {
		sesFail(w, status, code, msg)
		return
	}
	s.mu.Lock()
	m.MessageID = fmt.Sprintf("0100018c-0000-0000-0000-%012d-000000", len(s.sent)+1)
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": m.MessageID})
}

// check applies SendEmail's documented rules to a simple message.
func (s *SES) check(req sendEmailRequest) (m Mail, status int, code, msg string) {
	bad := func(code, msg string) (Mail, int, string, string) { return Mail{}, 400, code, msg }
	if req.FromEmailAddress == nil || *req.FromEmailAddress == "" {
		return bad("BadRequestException", "FromEmailAddress is required")
	}
	if req.Destination == nil || len(req.Destination.ToAddresses)+len(req.Destination.CcAddresses)+len(req.Destination.BccAddresses) == 0 {
		return bad("BadRequestException", "Destination must have at least one recipient")
	}
	d := req.Destination
	all := append(append(append([]string(nil), d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	if len(all) > 50 {
		return bad("MessageRejected", "Recipient count exceeds 50.")
	}
	if req.Content == nil || req.Content.Simple == nil {
		return bad("BadRequestException", "Content.Simple is required by this endpoint")
	}
	sc := req.Content.Simple
	if sc.Subject == nil || sc.Subject.Data == "" || strings.ContainsAny(sc.Subject.Data, "\r\n") {
		return bad("BadRequestException", "Subject must be one non-empty line")
	}
	if sc.Body == nil || (sc.Body.Text == nil && sc.Body.Html == nil) {
		return bad("BadRequestException", "Body needs Text or Html")
	}
	for _, a := range append(all, *req.FromEmailAddress) {
		if _, err := mail.ParseAddress(a); err != nil {
			return bad("BadRequestException", "Illegal address")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isVerified(*req.FromEmailAddress) {
		return bad("MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: "+*req.FromEmailAddress)
	}
	if s.sandbox {
		for _, a := range all {
			if !s.isVerified(a) {
				return bad("MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: "+a)
			}
		}
	}
	m = Mail{From: *req.FromEmailAddress, To: d.ToAddresses, Subject: sc.Subject.Data}
	if sc.Body.Text != nil {
		m.Text = sc.Body.Text.Data
	}
	return m, 0, "", ""
}
