package lambdabuild

import (
	"path/filepath"
	"strings"
	"testing"
)

// An architecture Lambda does not run is refused before anything is built.
func TestBuildRefusesOtherArchitectures(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	err := Build(bin, "386", "./no/such/package", "")
	if err == nil || !strings.Contains(err.Error(), "arm64 and amd64") {
		t.Fatalf("Build for 386: %v", err)
	}
}
