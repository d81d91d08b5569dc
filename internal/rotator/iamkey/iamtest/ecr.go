package iamtest

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"
)

// ECR is served beside IAM and STS: the JSON protocol action
// GetAuthorizationToken (X-Amz-Target AmazonEC2ContainerRegistry_V20150921.*,
// signed for service "ecr"), and one registry per AddRegistry, each an HTTPS
// server on 127.0.0.1 whose /v2/ answers 200 to basic auth with a token the
// server issued for that registry and that has not expired, and 401 to
// anything else, as ECR's registries do.

const ecrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// DefaultTokenTTL is how long an ECR authorization token is valid: 12 hours.
const DefaultTokenTTL = 12 * time.Hour

var registryIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// registry is one account's registry endpoint.
type registry struct {
	account string
	ts      *httptest.Server
}

// ecrToken is an authorization token the server issued.
type ecrToken struct {
	account string
	expires time.Time
}

// AddRegistry starts the registry of account (12 digits) and returns its
// proxy endpoint, https://127.0.0.1:PORT. Its TLS certificate is the one
// RegistryClient trusts. Registries are closed with the Server.
func (s *Server) AddRegistry(account string) string {
	if !registryIDRE.MatchString(account) {
		panic("iamtest: registry id must be 12 digits: " + account)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.registries[account]; ok {
		return r.ts.URL
	}
	r := &registry{account: account}
	r.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { s.serveRegistry(r, w, req) }))
	s.registries[account] = r
	return r.ts.URL
}

// RegistryClient returns an HTTP client that trusts the registries' TLS
// certificate.
func (s *Server) RegistryClient() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.registries {
		return r.ts.Client()
	}
	panic("iamtest: RegistryClient before AddRegistry")
}

// AllowECR lets the user's keys call ecr:GetAuthorizationToken (the seed's
// ECR policy). Admin principals may always.
func (s *Server) AllowECR(userName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userName]
	if !ok {
		return fmt.Errorf("iamtest: no user %q", userName)
	}
	u.ecr = true
	return nil
}

// LastService reports the service (iam, sts, ecr) the key last signed a
// request for, "" when never.
func (s *Server) LastService(keyID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[keyID]; ok {
		return k.lastService
	}
	return ""
}

// RegistryCertPEM returns the registries' TLS certificate in PEM, for a
// process that reads trusted roots from SSL_CERT_FILE.
func (s *Server) RegistryCertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.registries {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.ts.Certificate().Raw})
	}
	panic("iamtest: RegistryCertPEM before AddRegistry")
}

// Tokens reports how many ECR authorization tokens the server issued.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

func (s *Server) closeRegistries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.registries {
		r.ts.Close()
	}
}

type jsonError struct {
	status  int
	typ     string
	message string
}

func writeJSONError(w http.ResponseWriter, reqID string, e jsonError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.message})
}

// jsonAuthError is the JSON protocol's form of a refused signature.
func jsonAuthError(a *apiError) jsonError {
	switch a.code {
	case "InvalidClientTokenId":
		return jsonError{http.StatusForbidden, "UnrecognizedClientException", a.message}
	case "SignatureDoesNotMatch", "IncompleteSignature":
		return jsonError{http.StatusForbidden, "InvalidSignatureException", a.message}
	case "MissingAuthenticationToken":
		return jsonError{http.StatusForbidden, "MissingAuthenticationTokenException", a.message}
	}
	return jsonError{a.status, a.code, a.message}
}

// serveECR answers one ECR API request.
func (s *Server) serveECR(w http.ResponseWriter, r *http.Request, body []byte, reqID string) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ecrTargetPrefix)
	if r.Method != http.MethodPost {
		writeJSONError(w, reqID, jsonError{http.StatusMethodNotAllowed, "UnknownOperationException", "POST only"})
		return
	}
	if r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		// The AWS JSON 1.1 protocol's content type, which ECR requires.
		writeJSONError(w, reqID, jsonError{http.StatusBadRequest, "SerializationException", "want Content-Type application/x-amz-json-1.1"})
		return
	}
	if action != "GetAuthorizationToken" {
		writeJSONError(w, reqID, jsonError{http.StatusBadRequest, "UnknownOperationException", "iamtest serves only GetAuthorizationToken of ECR"})
		return
	}
	caller, aerr := s.authenticate(r, body, "ecr")
	if aerr != nil {
		writeJSONError(w, reqID, jsonAuthError(aerr))
		return
	}
	f := s.takeFault(action)
	if f != nil && !f.after {
		writeJSONError(w, reqID, jsonError{statusOf(f.code), f.code, "injected fault for " + action})
		return
	}
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSONError(w, reqID, jsonError{http.StatusBadRequest, "SerializationException", "cannot parse the request body"})
			return
		}
	}
	out, jerr := s.getAuthorizationToken(caller, in.RegistryIDs)
	if jerr != nil {
		writeJSONError(w, reqID, *jerr)
		return
	}
	if f != nil {
		writeJSONError(w, reqID, jsonError{statusOf(f.code), f.code, "injected fault after " + action + " took effect"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", reqID)
	_ = json.NewEncoder(w).Encode(out)
}

type authorizationData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
	ProxyEndpoint      string  `json:"proxyEndpoint"`
}

func (s *Server) getAuthorizationToken(caller *key, ids []string) (any, *jsonError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if caller.user != "" && !s.users[caller.user].ecr {
		u := s.users[caller.user]
		return nil, &jsonError{http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf(
			"User: %s is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action",
			s.userARN(u.path, u.name))}
	}
	if len(ids) > 10 {
		return nil, &jsonError{http.StatusBadRequest, "InvalidParameterException", "registryIds: at most 10"}
	}
	if len(ids) == 0 {
		ids = []string{s.cfg.Account}
	}
	now := s.cfg.Now()
	ttl := s.cfg.TokenTTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	var out struct {
		AuthorizationData []authorizationData `json:"authorizationData"`
	}
	for _, id := range ids {
		if !registryIDRE.MatchString(id) {
			return nil, &jsonError{http.StatusBadRequest, "InvalidParameterException",
				"Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9]{12}'"}
		}
		reg, ok := s.registries[id]
		if !ok {
			return nil, &jsonError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf("iamtest has no registry %s: call AddRegistry", id)}
		}
		pw := s.randSecret(120)
		exp := now.Add(ttl).Truncate(time.Second)
		s.tokens[pw] = ecrToken{account: id, expires: exp}
		out.AuthorizationData = append(out.AuthorizationData, authorizationData{
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + pw)),
			ExpiresAt:          float64(exp.Unix()),
			ProxyEndpoint:      reg.ts.URL,
		})
	}
	return &out, nil
}

// serveRegistry is a registry's /v2/ check.
func (s *Server) serveRegistry(reg *registry, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.URL.Path != "/v2/" && r.URL.Path != "/v2" {
		http.NotFound(w, r)
		return
	}
	user, pw, ok := r.BasicAuth()
	s.mu.Lock()
	s.calls["registry:/v2/"]++
	tok, known := s.tokens[pw]
	s.mu.Unlock()
	if !ok || user != "AWS" || !known || tok.account != reg.account || !s.cfg.Now().Before(tok.expires) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="%s/",service="ecr.amazonaws.com"`, reg.ts.URL))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte("{}\n"))
}
