// Package lambdabuild cross-compiles rotor for AWS Lambda and its image, as
// Lambda's Go guide says: for Linux, no cgo, the lambda.norpc tag (the
// provided runtimes speak the Runtime API only, not the Go 1.x RPC mode), no
// paths of the build machine and no symbols.
package lambdabuild

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Build cross-compiles pkg for linux/arch into bin, with ldflags added to
// "-s -w" (e.g. -X for the version). go's output goes to stderr.
func Build(bin, arch, pkg, ldflags string) error {
	if arch != "amd64" && arch != "arm64" {
		return fmt.Errorf("architecture %q: Lambda runs arm64 and amd64 (x86_64) only", arch)
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath",
		"-ldflags", strings.TrimSpace("-s -w "+ldflags), "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for linux/%s: %w", pkg, arch, err)
	}
	return nil
}
