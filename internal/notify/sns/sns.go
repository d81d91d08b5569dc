// Package sns publishes notifications to an Amazon SNS topic with the AWS
// SDK v2 (Publish: TopicArn, Subject, Message). Subscribers of the topic
// (typically administrators' e-mail) receive them. Subjects are made to fit
// SNS's rules (one line, no control characters, under 100 characters).
package sns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// Limits of Publish.
const (
	MaxSubject = 99         // SNS: "less than 100 characters"
	MaxMessage = 256 * 1024 // bytes
)

// API is the part of the SNS client a Publisher uses.
type API interface {
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

var _ API = (*awssns.Client)(nil)

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
	in := &awssns.PublishInput{TopicArn: aws.String(p.topic), Message: aws.String(message)}
	if s := Subject(subject); s != "" {
		in.Subject = aws.String(s)
	}
	out, err := p.api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to SNS topic %s: %w%s", p.topic, err, hint(err))
	}
	if out == nil || aws.ToString(out.MessageId) == "" {
		return "", fmt.Errorf("publish to SNS topic %s: the answer has no MessageId", p.topic)
	}
	return aws.ToString(out.MessageId), nil
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
