// Package ses sends plain-text e-mail with Amazon SES v2 (SendEmail) from a
// verified identity. While an SES account is in the sandbox, recipients must
// be verified too; SES then rejects the message, and the error says so.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/awsapi"
)

// MaxRecipients is SES's limit per message.
const MaxRecipients = 50

// API is SES v2's SendEmail, the call a Mailer makes.
type API interface {
	SendEmail(ctx context.Context, in *SendEmailInput) (*SendEmailOutput, error)
}

// SendEmailInput is SendEmail's request, for a simple message.
type SendEmailInput struct {
	FromEmailAddress string
	Destination      struct{ ToAddresses []string }
	Content          struct {
		Simple struct {
			Subject Content
			Body    struct{ Text Content }
		}
	}
}

// Content is a text and its character set.
type Content struct{ Data, Charset string }

// SendEmailOutput is SendEmail's answer.
type SendEmailOutput struct{ MessageId *string }

// Client is API over SES v2's REST JSON endpoint (POST
// /v2/email/outbound-emails). The SDK's SES v2 client is not linked (see
// internal/awsapi).
type Client struct{ api *awsapi.Client }

var _ API = (*Client)(nil)

// service is SES v2's API.
var service = awsapi.Service{ID: "SESv2", SigningName: "ses",
	Endpoint: awsapi.Regional("email.{region}", "email-fips.{region}", "email.{region}", "email-fips.{region}")}

// NewClient returns a Client calling SES with cfg's credentials, retry
// settings, HTTP client, region and endpoint settings
// (AWS_ENDPOINT_URL_SESV2 included).
func NewClient(cfg aws.Config) *Client { return &Client{awsapi.New(cfg, service)} }

// SendEmail sends one message.
func (c *Client) SendEmail(ctx context.Context, in *SendEmailInput) (*SendEmailOutput, error) {
	var out SendEmailOutput
	if err := c.api.REST(ctx, "SendEmail", "POST", "/v2/email/outbound-emails", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Mailer sends from one address.
type Mailer struct {
	api  API
	from string
}

// New returns a Mailer sending from from, which must be an identity
// (address or domain) verified in SES.
func New(api API, from string) (*Mailer, error) {
	if api == nil {
		return nil, errors.New("ses: no SES client given")
	}
	if err := CheckAddress(from); err != nil {
		return nil, fmt.Errorf("ses: sender: %w", err)
	}
	return &Mailer{api: api, from: from}, nil
}

// From returns the sender address.
func (m *Mailer) From() string { return m.from }

// CheckAddress reports whether s is one e-mail address ("a@example.com" or
// "Name <a@example.com>").
func CheckAddress(s string) error {
	if _, err := mail.ParseAddress(s); err != nil {
		return fmt.Errorf("%q is not an e-mail address", s)
	}
	return nil
}

// Mail is a plain-text message.
type Mail struct {
	To      []string
	Subject string
	Text    string
}

// Send sends msg and returns SES's message id.
func (m *Mailer) Send(ctx context.Context, msg Mail) (string, error) {
	if len(msg.To) == 0 {
		return "", errors.New("ses: no recipients")
	}
	if len(msg.To) > MaxRecipients {
		return "", fmt.Errorf("ses: %d recipients, more than SES's %d", len(msg.To), MaxRecipients)
	}
	for _, a := range msg.To {
		if err := CheckAddress(a); err != nil {
			return "", fmt.Errorf("ses: recipient: %w", err)
		}
	}
	subject := strings.Join(strings.Fields(msg.Subject), " ")
	if subject == "" || msg.Text == "" {
		return "", errors.New("ses: a mail needs a subject and a body")
	}
	in := &SendEmailInput{FromEmailAddress: m.from}
	in.Destination.ToAddresses = msg.To
	in.Content.Simple.Subject = Content{Data: subject, Charset: "UTF-8"}
	in.Content.Simple.Body.Text = Content{Data: msg.Text, Charset: "UTF-8"}
	out, err := m.api.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("send mail from %s with SES: %w%s", m.from, err, hint(err))
	}
	if out == nil || aws.ToString(out.MessageId) == "" {
		return "", errors.New("send mail with SES: the answer has no MessageId")
	}
	return aws.ToString(out.MessageId), nil
}

func hint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "MessageRejected":
		if strings.Contains(ae.ErrorMessage(), "not verified") {
			return " (verify the sender identity in SES; while the account is in the SES sandbox, verify every recipient too, or request production access)"
		}
	case "AccessDeniedException", "AccessDenied":
		return " (allow ses:SendEmail on the sender identity to rotor's role)"
	case "SendingPausedException", "AccountSuspendedException":
		return " (sending is paused for this SES account; see the SES console)"
	}
	return ""
}
