// Package kubetest runs a real etcd and kube-apiserver on loopback for the
// tests that talk to Kubernetes: RBAC on, an admin authenticated by a static
// token, and service-account tokens (TokenRequest) for clients limited by
// RBAC.
//
// One server serves a whole test binary: call Main from TestMain and Need
// from each test. The binaries are found in $ROTOR_K8S_ASSETS, else in
// ~/.cache/rotor/k8s/assets, where scripts/kube-apiserver.sh builds
// kube-apiserver and links Debian's etcd. When they are missing, Need skips
// the test with a message saying how to get them, and fails it when $CI is
// set.
package kubetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rotorhq/rotor/internal/kubeclient"
)

// AssetsEnv names the directory holding kube-apiserver and etcd.
const AssetsEnv = "ROTOR_K8S_ASSETS"

// Server is a running etcd and kube-apiserver.
type Server struct {
	// Config is the admin's configuration (group system:masters).
	Config *rest.Config
	// Kubeconfig is a kubeconfig file for the admin.
	Kubeconfig string
	// Host is the API server's URL.
	Host string

	dir   string
	procs []*exec.Cmd
	logs  []string
}

// AssetsDir returns the directory the binaries are looked for in.
func AssetsDir() string {
	if d := os.Getenv(AssetsEnv); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "rotor", "k8s", "assets")
}

// missing says why the binaries cannot be used, or "" when they can.
func missing(dir string) string {
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := exec.LookPath(filepath.Join(dir, b)); err != nil {
			return fmt.Sprintf("%s not found in %s (set %s, or build it with scripts/kube-apiserver.sh after apt-get install etcd-server)",
				b, dir, AssetsEnv)
		}
	}
	return ""
}

var (
	shared     *Server
	sharedWhy  string // why there is no shared server
	sharedFail bool   // the binaries exist but the server did not start
)

// Main runs a test binary's tests with one shared server, started when the
// binaries are present, and stopped (with its processes) before it exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir := AssetsDir()
	if why := missing(dir); why != "" {
		sharedWhy = why
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "rotor-kubetest-")
	if err != nil {
		sharedWhy, sharedFail = err.Error(), true
		return m.Run()
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := Start(ctx, dir, tmp)
	cancel()
	if err != nil {
		sharedWhy, sharedFail = "start kube-apiserver: "+err.Error(), true
		return m.Run()
	}
	defer s.Stop()
	shared = s
	return m.Run()
}

// Need returns the shared server. It skips the test when the binaries are
// missing, or fails it when $CI is set or they are present but the server
// did not start.
func Need(t testing.TB) *Server {
	t.Helper()
	if shared != nil {
		return shared
	}
	if sharedWhy == "" {
		t.Fatal("kubetest.Need without kubetest.Main in TestMain")
	}
	if sharedFail || os.Getenv("CI") != "" {
		t.Fatal(sharedWhy)
	}
	t.Skip("no kube-apiserver: " + sharedWhy)
	return nil
}

// Start starts etcd and kube-apiserver from binaries in assets, keeping
// their data in dir, and waits until the API server is ready.
func Start(ctx context.Context, assets, dir string) (_ *Server, err error) {
	s := &Server{dir: dir}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return nil, err
	}
	token, err := s.writePKI(pki)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := s.spawn(filepath.Join(assets, "etcd"), "etcd",
		"--name=kubetest", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL, "--unsafe-no-fsync"); err != nil {
		return nil, err
	}
	port := strconv.Itoa(ports[2])
	s.Host = "https://127.0.0.1:" + port
	certs := filepath.Join(dir, "certs")
	if err := s.spawn(filepath.Join(assets, "kube-apiserver"), "kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+port,
		"--cert-dir="+certs,
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--token-auth-file="+filepath.Join(pki, "tokens.csv"),
		"--service-account-issuer="+s.Host,
		"--service-account-key-file="+filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(pki, "sa.key")); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, token, filepath.Join(certs, "apiserver.crt")); err != nil {
		return nil, err
	}
	s.Config = &rest.Config{Host: s.Host, BearerToken: token, QPS: 1000, Burst: 1000,
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(certs, "apiserver.crt")}}
	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(s.Kubeconfig, s.Config, "admin", "default"); err != nil {
		return nil, err
	}
	return s, nil
}

// writeKubeconfig writes a kubeconfig file at path that authenticates to
// cfg's server with cfg's bearer token as user, in namespace ns.
func writeKubeconfig(path string, cfg *rest.Config, user, ns string) error {
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubetest
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %q
  user: {token: %q}
contexts:
- name: kubetest
  context: {cluster: kubetest, user: %q, namespace: %q}
current-context: kubetest
`, cfg.Host, cfg.CAFile, user, cfg.BearerToken, user, ns)
	return os.WriteFile(path, []byte(kc), 0o600)
}

// writePKI writes the service-account signing key and the token file, and
// returns the admin's token.
func (s *Server) writePKI(dir string) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	files["tokens.csv"] = []byte(token + `,kubetest-admin,kubetest-admin,"system:masters"` + "\n")
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", err
		}
	}
	return token, nil
}

func (s *Server) spawn(bin, name string, args ...string) error {
	logPath := filepath.Join(s.dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = s.dir
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	log.Close()
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, logPath)
	return nil
}

// waitReady polls /readyz until it answers 200.
func (s *Server) waitReady(ctx context.Context, token, caFile string) error {
	cfg := &rest.Config{Host: s.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	hc.Timeout = 5 * time.Second
	last := "no answer"
	for {
		if _, err := os.Stat(caFile); err == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Host+"/readyz", nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				last = resp.Status
			} else {
				last = err.Error()
			}
		}
		for i, p := range s.procs {
			if p.ProcessState != nil || p.Process.Signal(sigZero) != nil {
				return fmt.Errorf("%s exited: %s", filepath.Base(p.Path), tail(s.logs[i]))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready (%s): %w; its log ends:\n%s", last, ctx.Err(), tail(s.logs[len(s.logs)-1]))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Stop kills the processes, the API server first.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	s.procs = nil
}

// Client returns an admin clientset.
func (s *Server) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// RotorClient returns rotor's own client (what the kube store talks
// through) for the admin.
func (s *Server) RotorClient(t testing.TB) *kubeclient.Client {
	t.Helper()
	c, err := kubeclient.New(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Namespace creates a namespace whose name starts with prefix, deleted when
// the test ends.
func (s *Server) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	c := s.Client(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	if _, err := c.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = c.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// ServiceAccountConfig creates the service account ns/name if needed and
// returns a configuration that authenticates as it, with a token from the
// TokenRequest API: what RBAC grants the account is all it can do.
func (s *Server) ServiceAccountConfig(ctx context.Context, ns, name string) (*rest.Config, error) {
	c, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		return nil, err
	}
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create service account %s/%s: %w", ns, name, err)
	}
	exp := int64(3600)
	tr, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for %s/%s: %w", ns, name, err)
	}
	cfg := rest.AnonymousClientConfig(s.Config)
	cfg.BearerToken = tr.Status.Token
	return cfg, nil
}

// ServiceAccountKubeconfig writes a kubeconfig file that authenticates as
// the service account ns/name (created if needed, see ServiceAccountConfig)
// with ns as its namespace, removed when the test ends.
func (s *Server) ServiceAccountKubeconfig(t testing.TB, ns, name string) string {
	t.Helper()
	cfg, err := s.ServiceAccountConfig(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeKubeconfig(p, cfg, name, ns); err != nil {
		t.Fatal(err)
	}
	return p
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
