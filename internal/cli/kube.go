package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// KubeNamespaceEnv is the environment variable of --namespace.
const KubeNamespaceEnv = "ROTOR_KUBE_NAMESPACE"

// podNamespaceFile is where a pod's service account namespace is mounted.
const podNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// openKube opens the Secrets of one namespace. The API server and the
// credentials come from --kubeconfig, else $KUBECONFIG, else, inside a pod,
// its service account, else ~/.kube/config; the namespace from --namespace
// or $ROTOR_KUBE_NAMESPACE, else the kubeconfig context's or the pod's.
func openKube(_ context.Context, cfg StoreConfig) (store.Store, func() error, error) {
	rc, ns, err := kubeConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("open the kube store: %w", err)
	}
	if cfg.Namespace != "" {
		ns = cfg.Namespace
	}
	rc.UserAgent = "rotor"
	c, err := kubeclient.New(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("open the kube store: %w", err)
	}
	st, err := kube.New(kube.Config{Client: c, Namespace: ns, Logger: cfg.Logger, Now: cfg.Now, LockLease: cfg.KubeLockLease})
	if err != nil {
		return nil, nil, err
	}
	return st, func() error { return nil }, nil
}

func kubeConfig(cfg StoreConfig) (*rest.Config, string, error) {
	explicit := cfg.Kubeconfig
	envPaths := cfg.Env["KUBECONFIG"]
	if explicit == "" && envPaths == "" && cfg.Env["KUBERNETES_SERVICE_HOST"] != "" {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", fmt.Errorf("in-cluster configuration: %w", err)
		}
		ns := "default"
		if b, err := os.ReadFile(podNamespaceFile); err == nil && strings.TrimSpace(string(b)) != "" {
			ns = strings.TrimSpace(string(b))
		}
		return rc, ns, nil
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: explicit}
	switch {
	case explicit != "":
	case envPaths != "":
		rules.Precedence = filepath.SplitList(envPaths)
	default:
		if home := cfg.Env["HOME"]; home != "" {
			rules.Precedence = []string{filepath.Join(home, ".kube", "config")}
		}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("%w (give --kubeconfig or set KUBECONFIG; in a cluster, rotor uses its pod's service account)", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", err
	}
	return rc, ns, nil
}
