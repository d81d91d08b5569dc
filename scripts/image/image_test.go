package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rotorhq/rotor/internal/lambda/runtimetest"
	"github.com/rotorhq/rotor/internal/lambdabuild"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// testCA is a PEM bundle of one self-signed certificate.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rotor image test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func digest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestIndexIsReproducible: the index holds one OCI image per architecture
// with its platform; the same inputs give the same digest, another time
// another; the layout's tar is the same bytes twice.
func TestIndexIsReproducible(t *testing.T) {
	ca := testCA(t)
	bins := map[string][]byte{"amd64": []byte("amd64 binary"), "arm64": []byte("arm64 binary")}
	m := Meta{Epoch: time.Unix(1700000000, 0).UTC(), Version: "v1.2.3"}
	idx, err := Index(bins, ca, m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Index(bins, ca, m)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digest(t, idx), digest(t, again); a != b {
		t.Errorf("two builds of the same inputs: %s and %s", a, b)
	}
	later, err := Index(bins, ca, Meta{Epoch: m.Epoch.Add(time.Second), Version: m.Version})
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, later) == digest(t, idx) {
		t.Error("another SOURCE_DATE_EPOCH gives the same digest")
	}

	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("index %s with %d manifests, want an OCI index of 2", im.MediaType, len(im.Manifests))
	}
	for i, arch := range []string{"amd64", "arm64"} {
		d := im.Manifests[i]
		if d.MediaType != types.OCIManifestSchema1 || d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != arch {
			t.Errorf("manifest %d: %s for %+v, want an OCI manifest for linux/%s", i, d.MediaType, d.Platform, arch)
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf := checkConfig(t, img, arch)
		if cf.Config.Labels["org.opencontainers.image.version"] != "v1.2.3" {
			t.Errorf("labels %v lack the version", cf.Config.Labels)
		}
		if !cf.Created.Time.Equal(m.Epoch) {
			t.Errorf("created %v, want %v", cf.Created, m.Epoch)
		}
		files := unpack(t, img, t.TempDir(), m.Epoch)
		if !bytes.Equal(files[BinaryPath].contents, bins[arch]) {
			t.Errorf("%s: the %s image holds another binary", BinaryPath, arch)
		}
	}

	tars := make([][32]byte, 2)
	for i := range tars {
		dir := filepath.Join(t.TempDir(), "layout")
		if err := WriteLayout(dir, idx, "v1.2.3"); err != nil {
			t.Fatal(err)
		}
		tf := filepath.Join(t.TempDir(), "image.tar")
		if err := WriteTar(tf, dir, m.Epoch); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		tars[i] = sha256.Sum256(b)
	}
	if tars[0] != tars[1] {
		t.Error("two tars of the same index differ")
	}
}

// checkConfig checks the configuration every image has and returns it.
func checkConfig(t *testing.T, img v1.Image, arch string) *v1.ConfigFile {
	t.Helper()
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != arch {
		t.Errorf("config platform %s/%s, want linux/%s", cf.OS, cf.Architecture, arch)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/usr/local/bin/rotor"}) || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want /usr/local/bin/rotor alone", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if !slices.Contains(cf.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("env %q lacks SSL_CERT_FILE", cf.Config.Env)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 || len(cf.RootFS.DiffIDs) != 1 {
		t.Fatalf("%d layers, want 1 on the empty base", len(layers))
	}
	return cf
}

type file struct {
	mode     os.FileMode
	uid, gid int
	contents []byte
}

// unpack writes the image's file system under root, as a container runtime
// does, and returns what its tar said of each path; every entry must be
// sorted and dated epoch.
func unpack(t *testing.T, img v1.Image, root string, epoch time.Time) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]file{}
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if !filepath.IsLocal(name) {
			t.Fatalf("the layer holds %q, outside the root", h.Name)
		}
		names = append(names, h.Name)
		target := filepath.Join(root, name)
		f := file{mode: h.FileInfo().Mode(), uid: h.Uid, gid: h.Gid}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			f.contents = b
			if err := os.WriteFile(target, b, h.FileInfo().Mode().Perm()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: unexpected tar entry type %c", h.Name, h.Typeflag)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: time %v, not the epoch", h.Name, h.ModTime)
		}
		files["/"+name] = f
	}
	if !slices.IsSorted(names) {
		t.Errorf("the layer's entries are not sorted: %q", names)
	}
	for _, c := range []struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}{
		{BinaryPath, 0o755, 0, 0},
		{CABundlePath, 0o644, 0, 0},
		{"/etc/passwd", 0o644, 0, 0},
		{"/home/nonroot", os.ModeDir | 0o700, 65532, 65532},
		{"/tmp", os.ModeDir | os.ModeSticky | 0o777, 0, 0},
	} {
		f, ok := files[c.path]
		if !ok {
			t.Errorf("the image has no %s", c.path)
			continue
		}
		if f.mode != c.mode || f.uid != c.uid || f.gid != c.gid {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", c.path, f.mode, f.uid, f.gid, c.mode, c.uid, c.gid)
		}
	}
	if p := files["/etc/passwd"]; !bytes.Contains(p.contents, []byte("nonroot:x:65532:65532:")) {
		t.Errorf("/etc/passwd has no nonroot user 65532")
	}
	return files
}

const (
	keyID     = "AKIAROTORIMAGETEST01"
	keySecret = "image-test-secret-access-key-0123456789"
	region    = "us-east-1"
	oldValue  = "initial-password-value-7d2a"
	token     = "7a0f1e2d-3c4b-4a59-8e7f-6d5c4b3a2910"
)

// TestImageRunsAsLambdaFunction builds the amd64 image as `make image`
// does (twice: the same digest), writes and reads back its layout, unpacks
// the image and runs its entrypoint against a Lambda Runtime API with the
// events of one rotation, which must succeed.
func TestImageRunsAsLambdaFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rotor")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot build cmd/rotor")
	}
	ca, err := readCABundle(DefaultCABundle)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("no CA bundle on this machine (apt-get install ca-certificates): %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	m := Meta{Epoch: time.Unix(0, 0).UTC()}
	var digests []v1.Hash
	var idx v1.ImageIndex
	for i := range 2 {
		bin := filepath.Join(t.TempDir(), "rotor")
		if err := lambdabuild.Build(bin, "amd64", filepath.Join(root, "cmd", "rotor"), ""); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		idx, err = Index(map[string][]byte{"amd64": b}, ca, m)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, digest(t, idx))
		if i == 1 && digests[0] != digests[1] {
			t.Errorf("two builds from the same source: index %s and %s", digests[0], digests[1])
		}
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(dir, idx, "test"); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 || tm.Manifests[0].Digest != digests[0] ||
		tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "test" {
		t.Fatalf("the layout's index.json is %+v, want the index %s named test", tm.Manifests, digests[0])
	}
	written, err := top.ImageIndex(digests[0])
	if err != nil {
		t.Fatal(err)
	}
	im, err := written.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := written.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf := checkConfig(t, img, "amd64")
	fsRoot := t.TempDir()
	files := unpack(t, img, fsRoot, m.Epoch)
	if !bytes.Equal(files[CABundlePath].contents, ca) {
		t.Errorf("%s is not the build machine's bundle", CABundlePath)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(files[CABundlePath].contents) {
		t.Errorf("%s holds no certificate Go can read", CABundlePath)
	}

	// The function: the entrypoint with the image's environment, paths
	// under the unpacked root.
	st := local.NewMemory(local.Config{Region: region})
	sm := httptest.NewServer(smapi.NewHandler(smapi.Config{Store: st, Region: region, Credentials: map[string]string{keyID: keySecret}}))
	t.Cleanup(sm.Close)
	rt := runtimetest.New(runtimetest.Config{})
	t.Cleanup(rt.Close)
	ctx := context.Background()
	v := secret.New(oldValue)
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "app/db", Value: &v,
		Tags: []store.Tag{{Key: rotator.TagKind, Value: "password"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: ref.ARN, Token: token}); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	var env []string
	for _, e := range cf.Config.Env {
		if k, val, _ := strings.Cut(e, "="); k == "SSL_CERT_FILE" {
			e = k + "=" + filepath.Join(fsRoot, val)
		}
		env = append(env, e)
	}
	env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+rt.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=rotor-rotation",
		"AWS_REGION="+region,
		"AWS_ACCESS_KEY_ID="+keyID,
		"AWS_SECRET_ACCESS_KEY="+keySecret,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+sm.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"HOME="+home,
	)
	cmd := exec.Command(filepath.Join(fsRoot, cf.Config.Entrypoint[0]), cf.Config.Cmd...)
	cmd.Env = env
	cmd.Dir = fsRoot
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		payload, err := json.Marshal(events.SecretsManagerSecretRotationEvent{Step: step, SecretID: ref.ARN, ClientRequestToken: token})
		if err != nil {
			t.Fatal(err)
		}
		ictx, cancel := context.WithTimeout(ctx, time.Minute)
		_, fe, err := rt.Invoke(ictx, payload, 30*time.Second)
		cancel()
		if err != nil || fe != nil {
			t.Fatalf("%s: %v %v\nstdout:\n%s\nstderr:\n%s", step, err, fe, stdout.String(), stderr.String())
		}
	}
	d, err := st.DescribeSecret(ctx, ref.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasStage(token, store.Current) || !d.HasStage(ref.VersionID, store.Previous) {
		t.Errorf("after the rotation the stages are %v, want %s current and %s previous", d.VersionIDsToStages, token, ref.VersionID)
	}
	cur, err := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: ref.ARN, VersionStage: store.Current})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Value.IsZero() || cur.Value.Text() == oldValue {
		t.Error("the value did not change")
	}
	if v := rt.Violations(); len(v) != 0 {
		t.Errorf("the function broke the Runtime API protocol:\n%s", strings.Join(v, "\n"))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the function did not exit on SIGTERM")
	}
	for _, out := range []string{stdout.String(), stderr.String()} {
		for _, s := range []string{oldValue, cur.Value.Text(), keySecret} {
			if strings.Contains(out, s) {
				t.Fatal("the function's output holds a secret value")
			}
		}
	}
}
