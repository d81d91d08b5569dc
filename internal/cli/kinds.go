package cli

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/database"
	"github.com/rotorhq/rotor/internal/rotator/ecr"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/jfrog"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// SecretReader reads another secret's current value, for kinds that keep
// an admin credential in a separate secret (jfrog's admin-token-secret).
type SecretReader = jfrog.SecretReader

// Kinds builds the registry of every credential kind rotor ships. Kinds that
// call AWS load the standard AWS configuration (environment, shared files,
// instance or function role) the first time one of them is built, so that
// commands which never rotate such a secret never touch it.
func Kinds(env []string, secrets SecretReader) *rotator.Registry {
	aws := &lazyAWS{}
	jf := jfrog.Kind(jfrog.Deps{Env: env, Secrets: secrets})
	jf.New = func(o rotator.Options) (rotator.Rotator, error) {
		cfg, err := aws.config()
		if err != nil {
			return nil, err
		}
		return jfrog.New(jfrog.Deps{Env: env, Secrets: secrets, AWS: cfg, HTTPClient: metrics.HTTPClient("jfrog", 30*time.Second)}, o)
	}
	ik := iamkey.Kind(iamkey.Deps{})
	ik.New = func(o rotator.Options) (rotator.Rotator, error) {
		cfg, err := aws.config()
		if err != nil {
			return nil, err
		}
		return iamkey.New(iamkey.Deps{AWS: cfg}, o)
	}
	db := database.Deps{Secrets: secrets}
	er := ecr.Kind(ecr.Deps{AWS: aws.config, Secrets: secrets, HTTPClient: metrics.HTTPClient("ecr-registry", ecr.DefaultTestTimeout)})
	return rotator.NewRegistry(password.Kind(), jf, ik, dockerhubKind(env, secrets, aws), database.Postgres(db), database.MySQL(db), er)
}

// lazyAWS loads the AWS configuration once, on first use.
type lazyAWS struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

func (l *lazyAWS) config() (aws.Config, error) {
	l.once.Do(func() {
		l.cfg, l.err = config.LoadDefaultConfig(context.Background(), webIdentitySTS())
		if l.err != nil {
			l.err = fmt.Errorf("load the AWS configuration (AWS_REGION, credentials): %w", l.err)
			return
		}
		metrics.AWSCalls(&l.cfg)
	})
	return l.cfg, l.err
}

// ReadSecret implements SecretReader over the invocation's store.
func (r *runner) ReadSecret(ctx context.Context, id string) (secret.Value, error) {
	st, err := r.store()
	if err != nil {
		return secret.Value{}, err
	}
	out, err := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: id, VersionStage: store.Current})
	if err != nil {
		return secret.Value{}, fmt.Errorf("read secret %s: %w", id, err)
	}
	return out.Value, nil
}

// webIdentitySTS points the web identity provider (IRSA:
// AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN) at the STS endpoint of
// AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL when one is set, as every other
// client honours them: the SDK builds that provider's STS client before
// it reads those variables, so it would otherwise always call the public
// regional endpoint.
func webIdentitySTS() config.LoadOptionsFunc {
	return config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
		ep := os.Getenv("AWS_ENDPOINT_URL_STS")
		if ep == "" {
			ep = os.Getenv("AWS_ENDPOINT_URL")
		}
		if ep == "" || o.Client != nil {
			return
		}
		region := os.Getenv("AWS_REGION")
		if region == "" {
			region = os.Getenv("AWS_DEFAULT_REGION")
		}
		o.Client = sts.New(sts.Options{Region: region, BaseEndpoint: aws.String(ep)})
	})
}
