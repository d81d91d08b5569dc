// Package sns publishes notifications to an Amazon SNS topic (Publish:
// TopicArn, Subject, Message, over SNS's Query protocol). Subscribers of the topic
// (typically administrators' e-mail) receive them. Subjects are made to fit
// SNS's rules (one line, no control characters, under 100 characters).
package sns

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/awsapi"
)

// Limits of Publish.
const (
	MaxSubject = 99         // SNS: "less than 100 characters"
	MaxMessage = 256 * 1024 // bytes
)

// API is SNS's Publish, the call a Publisher makes.
type API interface {
	Publish(ctx context.Context, in *PublishInput) (*PublishOutput, error)
}

// PublishInput is Publish's request to a topic; an empty Subject is left
// out.
type PublishInput struct{ TopicArn, Subject, Message string }

// PublishOutput is Publish's answer.
type PublishOutput struct {
	MessageId string `xml:"MessageId"`
}

// Client is API over SNS's Query protocol endpoint. The SDK's SNS client
// is not linked (see internal/awsapi).
type Client struct{ api *awsapi.Client }

var _ API = (*Client)(nil)

// service is SNS's API.
var service = awsapi.Service{ID: "SNS", SigningName: "sns", Endpoint: endpoint}

var regional = awsapi.Regional("sns.{region}", "sns-fips.{region}", "sns.{region}", "sns-fips.{region}")

// endpoint is SNS's regional endpoint; in GovCloud its plain endpoint is
// already FIPS's.
func endpoint(region string, fips, dualStack bool) (string, bool) {
	if strings.HasPrefix(region, "us-gov-") && !dualStack {
		fips = false
	}
	return regional(region, fips, dualStack)
}

// NewClient returns a Client calling SNS with cfg's credentials, retry
// settings, HTTP client, region and endpoint settings
// (AWS_ENDPOINT_URL_SNS included).
func NewClient(cfg aws.Config) *Client { return &Client{awsapi.New(cfg, service)} }

// Publish publishes one message.
func (c *Client) Publish(ctx context.Context, in *PublishInput) (*PublishOutput, error) {
	params := url.Values{"TopicArn": {in.TopicArn}, "Message": {in.Message}}
	if in.Subject != "" {
		params.Set("Subject", in.Subject)
	}
	var out PublishOutput
	if err := c.api.Query(ctx, "Publish", "2010-03-31", params, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

var topicARN = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
})

// Publisher publishes to one topic.
type Publisher struct {
	api   API
	topic string
}

// New returns a Publisher for topicARN.
func New(api API, topicARN string) (*Publisher, error) {
	if api == nil {
		return nil, errors.New("sns: no SNS client given")
	}
	if !ValidTopicARN(topicARN) {
		return nil, fmt.Errorf("sns: %q is not a topic ARN (arn:aws:sns:<region>:<account>:<name>)", topicARN)
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		return nil, fmt.Errorf("sns: topic %s is a FIFO topic, which needs a message group id; use a standard topic", topicARN)
	}
	return &Publisher{api: api, topic: topicARN}, nil
}

// ValidTopicARN reports whether s has the shape of an SNS topic ARN.
func ValidTopicARN(s string) bool { return topicARN().MatchString(s) }

// Topic returns the topic's ARN.
func (p *Publisher) Topic() string { return p.topic }

// Publish sends message with subject (made to fit with Subject) and returns
// SNS's message id.
func (p *Publisher) Publish(ctx context.Context, subject, message string) (string, error) {
	if message == "" {
		return "", errors.New("sns: empty message")
	}
	if len(message) > MaxMessage {
		return "", fmt.Errorf("sns: message of %d bytes is over the %d-byte limit", len(message), MaxMessage)
	}
	out, err := p.api.Publish(ctx, &PublishInput{TopicArn: p.topic, Subject: Subject(subject), Message: message})
	if err != nil {
		return "", fmt.Errorf("publish to SNS topic %s: %w%s", p.topic, err, hint(err))
	}
	if out == nil || out.MessageId == "" {
		return "", fmt.Errorf("publish to SNS topic %s: the answer has no MessageId", p.topic)
	}
	return out.MessageId, nil
}

func hint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "AuthorizationError", "AccessDenied", "AccessDeniedException":
		return " (allow sns:Publish on the topic to rotor's role)"
	case "NotFound":
		return " (the topic does not exist in this account and region; check notify-sns-topic)"
	case "KMSAccessDenied", "KMSDisabled", "KMSNotFound":
		return " (the topic is encrypted; allow rotor's role kms:GenerateDataKey and kms:Decrypt on its key)"
	}
	return ""
}

// Subject makes s a valid SNS subject: control characters and line breaks
// become spaces, runs of spaces collapse, and the result is cut to
// MaxSubject characters.
func Subject(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) > MaxSubject {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:MaxSubject-3])) + "..."
	}
	return s
}
