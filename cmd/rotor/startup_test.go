package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// slowInit are packages that cost every rotor process milliseconds before
// main runs, and are kept out of the binary: client-go's clientset links a
// scheme that registers every Kubernetes API group at init, and its
// leaderelection imports the typed clients. internal/kubeclient and
// internal/election do what rotor needs of them.
var slowInit = []string{
	"k8s.io/client-go/kubernetes",
	"k8s.io/client-go/tools/leaderelection",
}

// TestStartTimeLinksNoClientset fails when the rotor binary links a package
// of slowInit (or one under it) again, and names the package that imports
// it.
func TestStartTimeLinksNoClientset(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	slow := func(pkg string) bool {
		return slices.ContainsFunc(slowInit, func(p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") })
	}
	// Name the importers outside client-go first: client-go's own (its
	// informers import the clientset) follow from them.
	var found, inClientGo []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 || slow(f[0]) {
			continue
		}
		for _, imp := range f[1:] {
			switch {
			case !slow(imp):
			case strings.HasPrefix(f[0], "k8s.io/client-go/"):
				inClientGo = append(inClientGo, f[0]+" imports "+imp)
			default:
				found = append(found, f[0]+" imports "+imp)
			}
		}
	}
	if len(found) == 0 {
		found = inClientGo
	}
	if len(found) > 0 {
		t.Fatalf("the rotor binary links packages that slow every process's start (their init registers every Kubernetes API group); "+
			"use internal/kubeclient and internal/election instead:\n\t%s", strings.Join(found, "\n\t"))
	}
}
