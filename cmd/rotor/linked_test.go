package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Packages whose initialisation costs every rotor process milliseconds at
// start for little use, kept out of the binary on purpose. The SDK's
// clients of SSM, ECR, SES v2, SNS and IAM build their whole API's schemas
// and endpoint tables when the process starts, for a call or a few each
// (GetParameter, GetAuthorizationToken, SendEmail, Publish, and the iamkey
// kind's five access-key actions), which internal/awsapi makes instead. client-go's clientset
// links a scheme that registers every Kubernetes API group at init, and
// its leaderelection imports the typed clients: internal/kubeclient and
// internal/election do what rotor needs of them. The Prometheus client
// (with the protobuf runtime, procfs and the standard library's
// runtime/metrics and expvar, which only it linked) cost about 2.5 ms for
// five counters and histograms and a few gauges, which internal/metrics
// writes in the text format itself; its tests parse every scrape with
// Prometheus's own parser.
var notLinked = []string{
	"github.com/prometheus",
	"k8s.io/client-go/kubernetes",
	"k8s.io/client-go/tools/leaderelection",
	"github.com/aws/aws-sdk-go-v2/service/ssm",
	"github.com/aws/aws-sdk-go-v2/service/ecr",
	"github.com/aws/aws-sdk-go-v2/service/sesv2",
	"github.com/aws/aws-sdk-go-v2/service/sns",
	"github.com/aws/aws-sdk-go-v2/service/iam",
}

// TestStartStaysLight fails when a change links one of notLinked into
// rotor again, and names what imports it.
func TestStartStaysLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			for _, p := range notLinked {
				if within(imp, p) && !within(f[0], p) {
					t.Errorf("%s imports %s, which rotor keeps out of its binary for its start time", f[0], imp)
				}
			}
		}
	}
}

func within(pkg, tree string) bool { return pkg == tree || strings.HasPrefix(pkg, tree+"/") }
