package iamtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// STS AssumeRoleWithWebIdentity, the call behind IRSA: unsigned, it trades a
// web identity token (the projected service-account token) for temporary
// credentials of the role, if the role trusts that token.

// webIdentity is a role that trusts one web identity token.
type webIdentity struct {
	roleARN, token string
}

// TrustWebIdentity makes roleARN (arn:aws:iam::<account>:role/<name>)
// assumable with token, as a role whose trust policy names the cluster's
// OIDC provider and the service account. The session's credentials may do
// what an admin may (AddAdmin).
func (s *Server) TrustWebIdentity(roleARN, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webIdentities = append(s.webIdentities, webIdentity{roleARN: roleARN, token: token})
}

// AssumedRoleSessions reports how many sessions AssumeRoleWithWebIdentity
// handed out.
func (s *Server) AssumedRoleSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["AssumeRoleWithWebIdentity:ok"]
}

type assumeRoleWithWebIdentityResult struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	} `xml:"AssumedRoleUser"`
	SubjectFromWebIdentityToken string `xml:"SubjectFromWebIdentityToken"`
}

func (s *Server) assumeRoleWithWebIdentity(p url.Values) (any, *apiError) {
	role, token, session := p.Get("RoleArn"), p.Get("WebIdentityToken"), p.Get("RoleSessionName")
	if role == "" || token == "" || session == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "RoleArn, RoleSessionName and WebIdentityToken are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["AssumeRoleWithWebIdentity"]++
	trusted := false
	for _, w := range s.webIdentities {
		trusted = trusted || (w.roleARN == role && w.token == token)
	}
	if !trusted {
		return nil, errorf(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	s.calls["AssumeRoleWithWebIdentity:ok"]++
	k := s.newKey("", "ASIA", 0)
	k.role = role
	k.token = "IQoJ" + s.randSecret(80)
	var out assumeRoleWithWebIdentityResult
	out.Credentials.AccessKeyID, out.Credentials.SecretAccessKey, out.Credentials.SessionToken = k.id, k.secret, k.token
	out.Credentials.Expiration = isoTime(s.cfg.Now().Add(time.Hour))
	name := role[strings.LastIndex(role, "/")+1:]
	out.AssumedRoleUser.Arn = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.cfg.Account, name, session)
	out.AssumedRoleUser.AssumedRoleID = "AROA" + s.randID(16) + ":" + session
	out.SubjectFromWebIdentityToken = "system:serviceaccount"
	return &out, nil
}
