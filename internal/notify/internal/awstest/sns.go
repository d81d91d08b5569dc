package awstest

import (
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rotorhq/rotor/internal/sigv4"
)

// Published is one accepted SNS Publish.
type Published struct {
	TopicArn, Subject, Message, MessageID string
}

// SNS is a local SNS endpoint speaking the Query protocol for Publish.
type SNS struct {
	*httptest.Server
	verifier *sigv4.Verifier

	mu        sync.Mutex
	topics    map[string]bool
	published []Published
	fail      []int // scripted status codes answered before normal handling
}

// NewSNS starts an SNS endpoint that knows topics (ARNs) and the test
// credentials; now is its clock (nil: time.Now).
func NewSNS(now func() time.Time, topics ...string) *SNS {
	s := &SNS{topics: map[string]bool{}}
	for _, t := range topics {
		s.topics[t] = true
	}
	s.verifier = newVerifier("sns", now)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// TopicARN returns the ARN of a topic called name in the test account.
func TopicARN(name string) string { return "arn:aws:sns:" + Region + ":" + Account + ":" + name }

// Client returns a real SDK client for this endpoint, with SDK retries off
// so that a scripted failure is seen once.
func (s *SNS) Client(creds aws.Credentials) *sns.Client {
	return sns.New(sns.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      aws.NewCredentialsCache(staticCreds(creds)),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Server.Client(),
	})
}

// Config returns an AWS configuration for this endpoint, retries off.
func (s *SNS) Config(creds aws.Credentials) aws.Config { return config(s.Server, creds) }

// FailNext makes the next len(statuses) requests answer these statuses
// with an InternalError.
func (s *SNS) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Published returns the accepted messages.
func (s *SNS) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.published...)
}

type snsError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func snsFail(w http.ResponseWriter, status int, code, msg string) {
	var e snsError
	e.Xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"
	e.Error.Type = "Sender"
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message = code, msg
	e.RequestID = "00000000-0000-0000-0000-000000000000"
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(e)
}

var topicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func (s *SNS) serve(w http.ResponseWriter, r *http.Request) {
	body, ok := admit(&s.mu, &s.fail, s.verifier, r,
		func(status int, code, msg string) { snsFail(w, status, code, msg) }, "InvalidParameter", "InternalError")
	if !ok {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		snsFail(w, 400, "InvalidAction", "only POST / is supported")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		snsFail(w, 400, "InvalidParameter", "the Query protocol needs a form-encoded body")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		snsFail(w, 400, "MalformedQueryString", err.Error())
		return
	}
	if form.Get("Action") != "Publish" {
		snsFail(w, 400, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", form.Get("Action")))
		return
	}
	if form.Get("Version") != "2010-03-31" {
		snsFail(w, 400, "InvalidParameter", "Version must be 2010-03-31")
		return
	}
	topic, subject, msg := form.Get("TopicArn"), form.Get("Subject"), form.Get("Message")
	if code, m := checkPublish(topic, subject, msg, form.Has("Subject")); code != "" {
		snsFail(w, 400, code, m)
		return
	}
	s.mu.Lock()
	known := s.topics[topic]
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.published)+1)
	if known {
		s.published = append(s.published, Published{TopicArn: topic, Subject: subject, Message: msg, MessageID: id})
	}
	s.mu.Unlock()
	if !known {
		snsFail(w, 404, "NotFound", "Topic does not exist")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>11111111-0000-0000-0000-000000000000</RequestId></ResponseMetadata></PublishResponse>`, id)
}

// checkPublish applies SNS's documented Publish constraints.
func checkPublish(topic, subject, msg string, hasSubject bool) (code, message string) {
	switch {
	case topic == "":
		return "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
	case !topicARN.MatchString(topic):
		return "InvalidParameter", "Invalid parameter: TopicArn"
	case msg == "":
		return "InvalidParameter", "Invalid parameter: Empty message"
	case len(msg) > 256*1024:
		return "InvalidParameter", "Invalid parameter: Message too long"
	case !utf8.ValidString(msg):
		return "InvalidParameter", "Invalid parameter: Message must be UTF-8"
	}
	if hasSubject {
		if subject == "" || utf8.RuneCountInString(subject) >= 100 || !utf8.ValidString(subject) ||
			strings.IndexFunc(subject, unicode.IsControl) >= 0 {
			return "InvalidParameter", "Invalid parameter: Subject"
		}
	}
	return "", ""
}
