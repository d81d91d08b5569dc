package kubernetes_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rotorhq/rotor/internal/cli"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/ecr"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// ecrKinds is kinds with the ecr kind, both pointed at the local server;
// rotor's own AWS identity is ambient (pod identity), here an admin key.
func ecrKinds(iam *iamtest.Server, ambient aws.Credentials) func([]string, cli.SecretReader) *rotator.Registry {
	return func(_ []string, secrets cli.SecretReader) *rotator.Registry {
		cfg := aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
		deps := iamkey.Deps{AWS: cfg, IAMEndpoint: iam.URL, STSEndpoint: iam.URL}
		withIdentity := cfg
		withIdentity.Credentials = credentials.StaticCredentialsProvider{Value: ambient}
		er := ecr.Kind(ecr.Deps{AWS: func() (aws.Config, error) { return withIdentity, nil }, Secrets: secrets,
			HTTPClient: iam.RegistryClient(), Endpoint: iam.URL})
		return rotator.NewRegistry(password.Kind(), iamkey.Kind(deps), er)
	}
}

func (c *cluster) rotorECR(t *testing.T, now func() time.Time, kinds func([]string, cli.SecretReader) *rotator.Registry, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	app := &cli.App{Env: []string{"KUBECONFIG=" + c.kubeconfig, "HOME=" + t.TempDir()}, Stdout: &out, Stderr: &errb, Kinds: kinds, Now: now}
	code := app.Run(t.Context(), append([]string{"--store", "kube"}, args...))
	return code, out.String(), errb.String()
}

// ecrSecret creates the ECR Secret of the IAM/ECR tool's README.
func (c *cluster) ecrSecret(t *testing.T, name string, ann map[string]string) {
	t.Helper()
	_, err := c.admin.CoreV1().Secrets(c.ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"aws-ecr-updater": "true"}, Annotations: ann},
		Type:       corev1.SecretTypeDockerConfigJson,
		StringData: map[string]string{corev1.DockerConfigJsonKey: "{}"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

type dockerConfig struct {
	Auths map[string]struct {
		Username, Password, Auth string
	} `json:"auths"`
}

// pull checks the registry accepts the Secret's credentials, as the
// kubelet would use them.
func pull(t *testing.T, iam *iamtest.Server, sec *corev1.Secret) string {
	t.Helper()
	var dc dockerConfig
	if err := json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &dc); err != nil || len(dc.Auths) != 1 {
		t.Fatalf("%s: .dockerconfigjson is not a Docker config of one registry (%v)", sec.Name, err)
	}
	for host, a := range dc.Auths {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+host+"/v2/", nil)
		req.SetBasicAuth(a.Username, a.Password)
		resp, err := iam.RegistryClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: the registry answers %d to its credentials", sec.Name, resp.StatusCode)
		}
		return a.Password
	}
	return ""
}

// TestECRSeedSecretRefreshes is the ECR half of the drop-in promise: the
// README's dockerconfigjson Secret is refreshed with the IAM key of the
// Secret it names, after that key's own rotation in the same run; a second
// run an hour later leaves the fresh tokens alone; nine hours on they are
// refreshed; a broken ECR Secret fails alone.
func TestECRSeedSecretRefreshes(t *testing.T) {
	c := newCluster(t)
	iam := iamServer(t)
	iam.AddRegistry(iam.Account())
	if err := iam.AllowECR("svc"); err != nil {
		t.Fatal(err)
	}
	initial, err := iam.SeedKey("svc")
	if err != nil {
		t.Fatal(err)
	}
	c.seedSecret(t, "aws-iam-user-credentials", initial)
	c.ecrSecret(t, "aws-ecr-credentials-us-west-1", map[string]string{
		"aws-ecr-updater/secret": "aws-iam-user-credentials", "aws-ecr-updater/region": "us-west-1"})
	c.ecrSecret(t, "aws-ecr-broken", map[string]string{"aws-ecr-updater/secret": "no-such-secret"})
	// A second ECR Secret on the pod's own identity (IRSA), no stored key.
	c.ecrSecret(t, "ecr-pod-identity", nil)
	kinds := ecrKinds(iam, iam.AddAdmin("rotor-pod"))

	code, out, errOut := c.rotorECR(t, nil, kinds, "rotate", "--due")
	if code != cli.ExitFailure || !strings.Contains(errOut, "rotate aws-ecr-broken") || !strings.Contains(errOut, "no-such-secret") {
		t.Fatalf("first run: exit %d, want %d with aws-ecr-broken failing\n%s%s", code, cli.ExitFailure, out, errOut)
	}
	texts := []string{out, errOut}
	key := c.secret(t, "aws-iam-user-credentials")
	newKey := string(key.Data["access_key_id"])
	if newKey == initial.AccessKeyID {
		t.Fatal("the IAM key was not rotated")
	}
	sec := c.secret(t, "aws-ecr-credentials-us-west-1")
	tok1 := pull(t, iam, sec)
	if got := iam.LastService(newKey); got != "ecr" {
		t.Errorf("the new key last signed for %q, want ecr: the ECR refresh did not use the key current after its rotation", got)
	}
	if got := iam.LastService(initial.AccessKeyID); got == "ecr" {
		t.Error("the ECR refresh used the key that its rotation replaced")
	}
	exp, err := time.Parse(time.RFC3339, sec.Annotations[kube.AnnotationECRExpiresAt])
	if err != nil || time.Until(exp) < 11*time.Hour {
		t.Errorf("annotation %s = %q, want the tokens' expiry 12h from now", kube.AnnotationECRExpiresAt, sec.Annotations[kube.AnnotationECRExpiresAt])
	}
	if sec.Type != corev1.SecretTypeDockerConfigJson || len(sec.Data) != 1 {
		t.Errorf("the ECR Secret has type %s and %d data keys, want the dockerconfigjson key alone", sec.Type, len(sec.Data))
	}
	pull(t, iam, c.secret(t, "ecr-pod-identity"))
	var warned bool
	for _, e := range c.events(t, "aws-ecr-broken") {
		warned = warned || e.Reason == kube.ReasonRotationFailed
		texts = append(texts, e.Message)
	}
	if !warned {
		t.Error("no RotationFailed Event on the broken ECR Secret")
	}

	// An hour later (the CronJob's next run): the IAM key rotates again,
	// as the tool rotated it on every run; the tokens are fresh.
	issued := iam.Tokens()
	hour := func() time.Time { return time.Now().Add(time.Hour) }
	code, out, errOut = c.rotorECR(t, hour, kinds, "rotate", "--due")
	texts = append(texts, out, errOut)
	if code != cli.ExitFailure {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	if iam.Tokens() != issued {
		t.Errorf("the second run asked ECR for %d tokens, want none: they are fresh for 9 more hours", iam.Tokens()-issued)
	}
	if tok := pull(t, iam, c.secret(t, "aws-ecr-credentials-us-west-1")); tok != tok1 {
		t.Error("fresh tokens were replaced")
	}
	// Ten hours on, within refresh-before (3h) of the expiry: refreshed.
	code, out, errOut = c.rotorECR(t, func() time.Time { return time.Now().Add(10 * time.Hour) }, kinds, "rotate", "--due")
	texts = append(texts, out, errOut)
	if code != cli.ExitFailure {
		t.Fatalf("third run: exit %d\n%s%s", code, out, errOut)
	}
	tok3 := pull(t, iam, c.secret(t, "aws-ecr-credentials-us-west-1"))
	if tok3 == tok1 {
		t.Error("tokens within refresh-before of their expiry were not refreshed")
	}
	noLeak(t, []string{tok1, tok3, initial.SecretAccessKey, string(key.Data["secret_access_key"])}, texts...)
}

// TestECRPodIdentity: with no key-secret, rotor as shipped calls ECR with
// the pod's IRSA identity: the SDK's default chain reads the projected
// service-account token (AWS_WEB_IDENTITY_TOKEN_FILE) and assumes
// AWS_ROLE_ARN with STS AssumeRoleWithWebIdentity; no key is stored.
func TestECRPodIdentity(t *testing.T) {
	c := newCluster(t)
	iam := iamServer(t)
	iam.AddRegistry(iam.Account())
	role := "arn:aws:iam::" + iam.Account() + ":role/rotor-ecr"
	const token = "eyJhbGciOiJSUzI1NiJ9.service-account-token.signature"
	iam.TrustWebIdentity(role, token)
	c.ecrSecret(t, "regcred", map[string]string{"aws-ecr-updater/region": "us-west-1"})
	dir := t.TempDir()
	tokenFile, caFile := filepath.Join(dir, "token"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, iam.RegistryCertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "--store", "kube", "rotate", "--due")
	cmd.Env = []string{childEnv + "=" + childShipped, "KUBECONFIG=" + c.kubeconfig, "HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + role, "AWS_ROLE_SESSION_NAME=rotor",
		"AWS_REGION=us-west-1", "AWS_ENDPOINT_URL=" + iam.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"SSL_CERT_FILE=" + caFile}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rotor rotate --due: %v\n%s", err, out)
	}
	tok := pull(t, iam, c.secret(t, "regcred"))
	if iam.AssumedRoleSessions() == 0 {
		t.Error("rotor did not assume the pod's role with its web identity")
	}
	noLeak(t, []string{tok, token}, string(out))
}
