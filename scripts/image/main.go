// Command image builds rotor's container image without a container daemon:
// for each architecture, cmd/rotor cross-compiled (static, -trimpath,
// stripped) in one layer on an empty base with a CA bundle, assembled into a
// multi-architecture OCI image index with github.com/google/go-containerregistry.
//
// The image runs as 65532:65532 with /usr/local/bin/rotor as its entrypoint:
// the CronJob of deploy/kubernetes and the Helm chart run it with their
// arguments, and Lambda runs it as a container-image function (rotor serves
// rotation events when AWS_LAMBDA_RUNTIME_API is set and it is given no
// command).
//
// The build is reproducible: every timestamp is SOURCE_DATE_EPOCH (zero
// when unset), the layer's entries are sorted and owned by fixed ids, so the
// same source, Go toolchain and CA bundle give the same digest.
//
// Usage (from the module root):
//
//	go run ./scripts/image [-o dist/image] [-tar dist/rotor-image.tar] [-arch amd64,arm64]
//	    [-tag latest] [-ca-bundle /etc/ssl/certs/ca-certificates.crt] [-ldflags "-X ..."] [-push REF]
//
// -o writes an OCI image layout directory, -tar the same layout as a tar
// file (podman load, skopeo copy oci-archive:..., docker load); -push
// uploads the index to a registry with the credentials of
// ~/.docker/config.json. It prints the index's digest and each
// architecture's image digest: Kubernetes pulls the index, Lambda (which
// does not take multi-architecture images) one image, REF@<its digest>.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rotorhq/rotor/internal/lambdabuild"
)

// Where things are in the image.
const (
	BinaryPath   = "/usr/local/bin/rotor"
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// User is the image's user and group: distroless's nonroot.
	User = "65532:65532"
	uid  = 65532
)

// DefaultCABundle is the build machine's bundle (Debian's ca-certificates).
const DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

func main() {
	o := options{}
	var archs string
	flag.StringVar(&o.out, "o", "", "write an OCI image layout to directory `DIR` (replaced)")
	flag.StringVar(&o.tarPath, "tar", "", "write the OCI image layout as tar file `FILE`")
	flag.StringVar(&o.push, "push", "", "push the index to registry reference `REF` (e.g. ghcr.io/rotorhq/rotor:v1.2.3)")
	flag.StringVar(&archs, "arch", "amd64,arm64", "comma-separated GOARCH values, linux each")
	flag.StringVar(&o.tag, "tag", "latest", "the tag the layout's index.json names the index by")
	flag.StringVar(&o.pkg, "pkg", "./cmd/rotor", "the package to build")
	flag.StringVar(&o.ldflags, "ldflags", "", "linker flags added to -s -w (e.g. -X for the version)")
	flag.StringVar(&o.version, "version", "", "the org.opencontainers.image.version label")
	flag.StringVar(&o.caBundle, "ca-bundle", DefaultCABundle, "the PEM CA bundle put at "+CABundlePath)
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "image: no arguments expected; see -h")
		os.Exit(2)
	}
	o.archs = strings.Split(archs, ",")
	epoch, err := sourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err == nil {
		o.epoch = epoch
		err = run(o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	out, tarPath, push string
	archs              []string
	tag                string
	pkg, ldflags       string
	version            string
	caBundle           string
	epoch              time.Time
}

// sourceDateEpoch parses SOURCE_DATE_EPOCH: seconds since 1970, zero when
// empty.
func sourceDateEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func run(o options) error {
	if o.out == "" && o.tarPath == "" && o.push == "" {
		return errors.New("nothing to do: give -o, -tar or -push")
	}
	ca, err := readCABundle(o.caBundle)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "rotor-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bins := map[string][]byte{}
	for _, arch := range o.archs {
		arch = strings.TrimSpace(arch)
		bin := filepath.Join(tmp, arch, "rotor")
		if err := lambdabuild.Build(bin, arch, o.pkg, o.ldflags); err != nil {
			return err
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		bins[arch] = b
	}
	idx, err := Index(bins, ca, Meta{Epoch: o.epoch, Version: o.version})
	if err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	dir := o.out
	if dir == "" && o.tarPath != "" {
		dir = filepath.Join(tmp, "layout")
	}
	if dir != "" {
		if err := WriteLayout(dir, idx, o.tag); err != nil {
			return fmt.Errorf("write the layout %s: %w", dir, err)
		}
		if o.out != "" {
			fmt.Printf("%s (index %s)\n", o.out, d)
		}
	}
	if o.tarPath != "" {
		if err := WriteTar(o.tarPath, dir, o.epoch); err != nil {
			return fmt.Errorf("write %s: %w", o.tarPath, err)
		}
		fmt.Printf("%s (index %s)\n", o.tarPath, d)
	}
	if o.push != "" {
		ref, err := name.ParseReference(o.push)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		fmt.Printf("%s@%s\n", ref.Context(), d)
	}
	// Lambda takes one architecture's image, not an index: REF@<its digest>.
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, m := range im.Manifests {
		fmt.Printf("  %s/%s image %s\n", m.Platform.OS, m.Platform.Architecture, m.Digest)
	}
	return nil
}

// readCABundle reads a PEM bundle, refusing one without a certificate.
func readCABundle(path string) ([]byte, error) {
	ca, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w (install ca-certificates, or give -ca-bundle)", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return ca, nil
}

// Meta is what the image says about itself besides its files.
type Meta struct {
	// Epoch is every timestamp of the image.
	Epoch time.Time
	// Version is the org.opencontainers.image.version label; none when
	// empty.
	Version string
}

// Index assembles the OCI image index of one image per architecture of
// bins (GOARCH to the linux binary), each with the CA bundle ca.
func Index(bins map[string][]byte, ca []byte, m Meta) (v1.ImageIndex, error) {
	if len(bins) == 0 {
		return nil, errors.New("no architecture")
	}
	archs := make([]string, 0, len(bins))
	for a := range bins {
		archs = append(archs, a)
	}
	slices.Sort(archs)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range archs {
		img, err := Image(arch, bins[arch], ca, m)
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", arch, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: cf.Platform()}})
	}
	return idx, nil
}

// Image is the image of one architecture: the empty base, one layer with
// the binary, the CA bundle and the nonroot user, and its configuration.
func Image(arch string, bin, ca []byte, m Meta) (v1.Image, error) {
	layerTar, err := Layer(bin, ca, m.Epoch)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
		History: v1.History{Created: v1.Time{Time: m.Epoch}, CreatedBy: "scripts/image: rotor and a CA bundle"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: m.Epoch}
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: []string{BinaryPath},
		Env:        []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + CABundlePath},
		WorkingDir: "/",
		Labels: map[string]string{
			"org.opencontainers.image.source":      "https://github.com/rotorhq/rotor",
			"org.opencontainers.image.title":       "rotor",
			"org.opencontainers.image.description": "rotor, a credential-rotation engine",
		},
	}
	if m.Version != "" {
		cf.Config.Labels["org.opencontainers.image.version"] = m.Version
	}
	return mutate.ConfigFile(img, cf)
}

// entry is one file or directory of the layer.
type entry struct {
	name     string
	mode     int64
	dir      bool
	owner    int
	contents []byte
}

// Layer is the layer's uncompressed tar: the binary, the CA bundle, the
// nonroot user's /etc/passwd and /etc/group entries and home, and /tmp,
// sorted by name, owned by root but for the home, every time m.Epoch.
func Layer(bin, ca []byte, epoch time.Time) ([]byte, error) {
	entries := []entry{
		{name: "etc/", dir: true, mode: 0o755},
		{name: "etc/group", mode: 0o644, contents: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/passwd", mode: 0o644, contents: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/ssl/", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/", dir: true, mode: 0o755},
		{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, contents: ca},
		{name: "home/", dir: true, mode: 0o755},
		{name: "home/nonroot/", dir: true, mode: 0o700, owner: uid},
		{name: "tmp/", dir: true, mode: 0o1777},
		{name: "usr/", dir: true, mode: 0o755},
		{name: "usr/local/", dir: true, mode: 0o755},
		{name: "usr/local/bin/", dir: true, mode: 0o755},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, contents: bin},
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.owner, Gid: e.owner, ModTime: epoch,
			Typeflag: tar.TypeReg, Size: int64(len(e.contents)), Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes idx as the OCI image layout dir (removed first), its
// index.json naming idx by tag.
func WriteLayout(dir string, idx v1.ImageIndex, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

// WriteTar writes the layout dir as a tar file: its files sorted, owned by
// root, readable by all, every time epoch.
func WriteTar(path, dir string, epoch time.Time) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	// WalkDir visits in lexical order.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		h := &tar.Header{Name: rel, Mode: 0o644, ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Name, h.Mode, h.Typeflag = rel+"/", 0o755, tar.TypeDir
			return tw.WriteHeader(h)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h.Size = int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
