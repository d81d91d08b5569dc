package iamtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The two services and their Query API versions and XML namespaces.
const (
	svcIAM = "iam"
	svcSTS = "sts"

	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
)

var namespaces = map[string]string{
	svcIAM: "https://iam.amazonaws.com/doc/2010-05-08/",
	svcSTS: "https://sts.amazonaws.com/doc/2011-06-15/",
}

var versions = map[string]string{svcIAM: iamVersion, svcSTS: stsVersion}

// serviceOf maps the actions the server implements to their service.
var serviceOf = map[string]string{
	"CreateAccessKey":      svcIAM,
	"ListAccessKeys":       svcIAM,
	"UpdateAccessKey":      svcIAM,
	"DeleteAccessKey":      svcIAM,
	"GetAccessKeyLastUsed": svcIAM,
	"GetUser":              svcIAM,
	"GetCallerIdentity":    svcSTS,

	"AssumeRoleWithWebIdentity": svcSTS,
}

// apiError is an AWS error answer: HTTP status, code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// statusOf is the HTTP status AWS answers with for an error code.
func statusOf(code string) int {
	switch code {
	case "LimitExceeded", "EntityAlreadyExists", "EntityTemporarilyUnmodifiable", "ConcurrentModification":
		return http.StatusConflict
	case "NoSuchEntity":
		return http.StatusNotFound
	case "AccessDenied", "InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken", "ExpiredToken":
		return http.StatusForbidden
	case "ServiceFailure", "InternalFailure":
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// ServeHTTP answers one Query API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, svcIAM, reqID, errorf(http.StatusBadRequest, "MalformedQueryString", "cannot read body"))
		return
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecrTargetPrefix) {
		s.serveECR(w, r, body, reqID)
		return
	}
	params, aerr := parseParams(r, body)
	action := params.Get("Action")
	svc := serviceOf[action]
	if svc == "" {
		svc = svcIAM
		if params.Get("Version") == stsVersion {
			svc = svcSTS
		}
	}
	if aerr == nil {
		aerr = checkAction(action, params.Get("Version"))
	}
	if aerr == nil && action == "AssumeRoleWithWebIdentity" {
		// Unsigned: the web identity token is the credential.
		result, aerr := s.assumeRoleWithWebIdentity(params)
		if aerr != nil {
			writeError(w, svc, reqID, aerr)
			return
		}
		writeResult(w, svc, action, reqID, result)
		return
	}
	var caller *key
	if aerr == nil {
		caller, aerr = s.authenticate(r, body, svc)
	}
	if aerr != nil {
		writeError(w, svc, reqID, aerr)
		return
	}

	f := s.takeFault(action)
	if f != nil && !f.after {
		writeError(w, svc, reqID, errorf(statusOf(f.code), f.code, "injected fault for %s", action))
		return
	}

	result, aerr := s.dispatch(caller, action, params)
	switch {
	case aerr != nil:
		writeError(w, svc, reqID, aerr)
	case f != nil:
		writeError(w, svc, reqID, errorf(statusOf(f.code), f.code, "injected fault after %s took effect", action))
	default:
		writeResult(w, svc, action, reqID, result)
	}
}

// takeFault counts an authenticated call of action and returns the fault
// queued for it, if any.
func (s *Server) takeFault(action string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[action]++
	q := s.faults[action]
	if len(q) == 0 {
		return nil
	}
	s.faults[action] = q[1:]
	return &q[0]
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqSeq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.reqSeq)
}

// parseParams reads the Query parameters from the URL and, for a form POST,
// the body.
func parseParams(r *http.Request, body []byte) (url.Values, *apiError) {
	params := r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return params, errorf(http.StatusMethodNotAllowed, "InvalidAction", "method %s is not supported", r.Method)
	}
	if r.Method == http.MethodPost {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			return params, errorf(http.StatusBadRequest, "InvalidAction", "content type %q is not supported; want application/x-www-form-urlencoded", mt)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return params, errorf(http.StatusBadRequest, "MalformedQueryString", "cannot parse the form body")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return params, nil
}

func checkAction(action, version string) *apiError {
	svc, ok := serviceOf[action]
	if action == "" {
		return errorf(http.StatusBadRequest, "MissingAction", "Missing Action")
	}
	if !ok || versions[svc] != version {
		return errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, version)
	}
	return nil
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, svc, reqID string, e *apiError) {
	var resp errorResponse
	resp.Xmlns = namespaces[svc]
	resp.Error.Type = "Sender"
	if e.status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code = e.code
	resp.Error.Message = e.message
	resp.RequestID = reqID
	out, _ := xml.Marshal(resp)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(e.status)
	_, _ = w.Write(out)
}

// writeResult writes <ActionResponse><ActionResult>result</ActionResult>
// <ResponseMetadata/></ActionResponse>; a nil result omits ActionResult.
func writeResult(w http.ResponseWriter, svc, action, reqID string, result any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespaces[svc]}}}
	_ = enc.EncodeToken(root)
	if result != nil {
		_ = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	_ = enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(root.End())
	_ = enc.Flush()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	_, _ = w.Write(buf.Bytes())
}
