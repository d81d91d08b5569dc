package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/awssm"
	"github.com/rotorhq/rotor/internal/store/local"
)

// StoreConfig is what a StoreOpener gets from the command line and the
// environment.
type StoreConfig struct {
	Path     string // --store-path; "" means the backend's default
	Endpoint string // --endpoint-url, for stores reached over the network
	// Kubeconfig and Namespace are --kubeconfig and --namespace (or
	// $ROTOR_KUBE_NAMESPACE), for the kube store.
	Kubeconfig string
	Namespace  string
	Region     string            // for stores in AWS; "" means AWS_REGION or the AWS profile
	Env        map[string]string // the process environment
	Logger     *slog.Logger
	Now        func() time.Time // nil means time.Now
	// KubeLockLease is the kube store's rotation-lock lease; 0 means
	// kube.LeaseDuration.
	KubeLockLease time.Duration
}

// StoreOpener opens one kind of store. close releases it.
type StoreOpener func(ctx context.Context, cfg StoreConfig) (st store.Store, close func() error, err error)

// Stores returns the backends of --store in this build.
func Stores() map[string]StoreOpener {
	return map[string]StoreOpener{
		"local": openLocal,
		"aws":   openAWS,
		"kube":  openKube,
	}
}

func openLocal(_ context.Context, cfg StoreConfig) (store.Store, func() error, error) {
	lc := local.Config{Path: cfg.Path, Now: cfg.Now, Logger: cfg.Logger}
	if k := strings.TrimSpace(cfg.Env[local.KeyEnv]); k != "" {
		key, err := decodeStoreKey(k)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", local.KeyEnv, err)
		}
		lc.Key = key
	}
	st, err := local.Open(lc)
	if err != nil {
		return nil, nil, fmt.Errorf("open the local store: %w", err)
	}
	return st, st.Close, nil
}

// decodeStoreKey reads ROTOR_STORE_KEY: base64 of 32 bytes.
func decodeStoreKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) != 32 {
		return nil, errors.New("want the base64 encoding of 32 random bytes; generate one with: head -c32 /dev/urandom | base64")
	}
	return key, nil
}

// openAWS opens AWS Secrets Manager (or anything that speaks its API, such
// as `rotor server`) with the SDK's standard configuration: credentials and
// region from the environment or the AWS profile, the endpoint from
// AWS_ENDPOINT_URL_SECRETS_MANAGER or --endpoint-url. Rotations started there are run by the
// service (the secret's rotation function, or the rotor server), and rotor
// waits for them.
func openAWS(ctx context.Context, cfg StoreConfig) (store.Store, func() error, error) {
	awsCfg, err := awssm.LoadAWSConfig(ctx, cfg.Region, cfg.Endpoint)
	if err != nil {
		return nil, nil, fmt.Errorf("open AWS Secrets Manager: %w", err)
	}
	metrics.AWSCalls(&awsCfg)
	st, err := awssm.New(awssm.Config{AWS: awsCfg, Logger: cfg.Logger, RemoteRotation: true})
	if err != nil {
		return nil, nil, fmt.Errorf("open AWS Secrets Manager: %w", err)
	}
	return st, func() error { return nil }, nil
}

// storePath is the local store's file, for files kept beside it.
func (r *runner) storePath() (string, error) {
	if r.g.storePath != "" {
		return r.g.storePath, nil
	}
	return local.DefaultPath()
}
