// Command lambdazip builds rotor's AWS Lambda deployment packages: for each
// architecture, cmd/rotor cross-compiled as a static, stripped `bootstrap`
// for the provided.al2023 runtime, zipped alone as
// <out>/rotor-lambda-<arch>.zip. It needs only the go command, so that
// `make lambda-zip` works on a fresh machine (no zip tool).
//
// Usage (from the module root):
//
//	go run ./scripts/lambdazip [-out dist] [-arch arm64,amd64] [-pkg ./cmd/rotor] [-ldflags "-X ..."]
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/lambdabuild"
)

func main() {
	out := flag.String("out", "dist", "directory for the zip files")
	archs := flag.String("arch", "arm64,amd64", "comma-separated GOARCH values (Lambda supports arm64 and amd64 as x86_64)")
	pkg := flag.String("pkg", "./cmd/rotor", "the package to build")
	ldflags := flag.String("ldflags", "", "linker flags added to -s -w (e.g. -X for the version)")
	flag.Parse()
	if err := run(*out, strings.Split(*archs, ","), *pkg, *ldflags); err != nil {
		fmt.Fprintf(os.Stderr, "lambdazip: %v\n", err)
		os.Exit(1)
	}
}

func run(out string, archs []string, pkg, ldflags string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "lambdazip-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, arch := range archs {
		arch = strings.TrimSpace(arch)
		bin := filepath.Join(tmp, arch, "bootstrap")
		if err := lambdabuild.Build(bin, arch, pkg, ldflags); err != nil {
			return err
		}
		zipPath := filepath.Join(out, "rotor-lambda-"+arch+".zip")
		if err := writeZip(zipPath, bin); err != nil {
			return fmt.Errorf("write %s: %w", zipPath, err)
		}
		fmt.Println(zipPath)
	}
	return nil
}

// writeZip stores bin as an executable `bootstrap` at the root of a new zip
// file, with a fixed date so that identical binaries make identical zips.
func writeZip(path, bin string) (err error) {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate,
		Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755) // Lambda runs bootstrap; it must be executable
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return err
	}
	return zw.Close()
}
