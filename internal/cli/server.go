package cli

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/scheduler"
	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/statuspage"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// shutdownTimeout bounds how long the server waits for requests in flight.
const shutdownTimeout = 10 * time.Second

func serverCmd() *command {
	return &command{
		name:    "server",
		usage:   "[--listen ADDR] [--allow-remote] [--region R] [--check-interval D] [--metrics-listen ADDR [--ui]] [--print-credentials]",
		summary: "Serve the Secrets Manager API over the store, and run scheduled rotations.",
		logInfo: true,
		help: `
The AWS SDKs and the aws CLI talk to the server as to Secrets Manager (set
AWS_ENDPOINT_URL_SECRETS_MANAGER). Requests must be signed (SigV4) with the
server's access key: ROTOR_SERVER_ACCESS_KEY_ID and
ROTOR_SERVER_SECRET_ACCESS_KEY when both are set, else a key generated on
first use into a file beside the store (mode 0600). The server prints the
file and the access key id, never the secret key; --print-credentials
prints both as shell exports (with AWS_REGION, AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL_SECRETS_MANAGER) and exits (eval "$(rotor server
--print-credentials)").

RotateSecret runs the rotation with rotor's engine before it answers;
CancelRotateSecret abandons one as rotor cancel does, revoking the
credential it had already created. Requests with a session token
(AWS_SESSION_TOKEN) are refused: the server's key is long-term.
While it runs, the server also rotates every secret whose next rotation
date has passed (checked at start and every --check-interval), as
rotate --due does. SIGINT or SIGTERM stops it gracefully.

--metrics-listen ADDR serves Prometheus metrics at http://ADDR/metrics:
rotor_rotations_total{kind,outcome}, rotor_step_duration_seconds{kind,step,
outcome}, rotor_revocations_total{kind,outcome}, and for each secret with
rotation enabled its last and next rotation times, the revocations still
due and whether a rotation is incomplete; never a value. With --ui the
same address serves a read-only status page at /: every secret with its
kind, staging labels, last and next rotation, the outcome of its last
attempt and the revocations due, and a timeline of recent rotations and
failures (plain HTML, no JavaScript). On an address other machines can
reach (--allow-remote), both want HTTP basic auth with the server's access
key id and secret access key.

--leader-elect (with --store kube) runs several replicas as one: they
elect the one that runs the schedule on a coordination.k8s.io Lease
(--leader-lease, in the store's namespace); the others serve the API. When
the leader dies, another takes the schedule over within
--leader-lease-duration.

The server listens on loopback only unless --allow-remote: anyone who can
reach it with the key reads every secret; put TLS in front of a remote one.`,
		json: `
a line when listening: {"Endpoint", "Region", "AccessKeyId", "CredentialsFile", "Store"}
--print-credentials: the same with "SecretAccessKey"`,
		examples: []string{
			"rotor server",
			"eval \"$(rotor server --print-credentials)\" && aws secretsmanager list-secrets",
			"rotor server --listen 127.0.0.1:9000 --check-interval 5m",
			"rotor server --metrics-listen 127.0.0.1:9090 --ui",
		},
		args: maxArgs(0),
		setup: func(fs *flag.FlagSet) func(*runner, []string) error {
			o := &serverOptions{}
			fs.StringVar(&o.listen, "listen", "127.0.0.1:8200", "address `ADDR` to listen on (host:port; port 0 picks one)")
			fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow an address other machines can reach")
			fs.StringVar(&o.region, "region", smapi.DefaultRegion, "the region `R` requests are signed for")
			fs.DurationVar(&o.interval, "check-interval", time.Minute, "how often `D` to look for secrets due for rotation; 0 turns scheduled rotation off")
			fs.StringVar(&o.metrics, "metrics-listen", "", "serve Prometheus metrics on `ADDR` (host:port) at /metrics; off when empty; loopback only unless --allow-remote")
			fs.BoolVar(&o.ui, "ui", false, "serve a read-only status page at / on the --metrics-listen address")
			fs.IntVar(&o.concurrency, "concurrency", scheduler.DefaultConcurrency, "how many scheduled rotations `N` run at once")
			fs.BoolVar(&o.leaderElect, "leader-elect", false, "with --store kube: replicas elect one to run the schedule, on a Lease; the others serve the API")
			fs.StringVar(&o.leaseName, "leader-lease", DefaultLeaderLease, "the Lease `NAME` replicas elect their leader on (in the store's namespace)")
			fs.DurationVar(&o.leaseDuration, "leader-lease-duration", 15*time.Second, "how long `D` a dead leader holds the schedule before another replica takes it")
			fs.BoolVar(&o.printCreds, "print-credentials", false, "print the access key and secret key as shell exports, and exit")
			return func(r *runner, _ []string) error { return r.server(o) }
		},
	}
}

type serverOptions struct {
	listen      string
	allowRemote bool
	region      string
	interval    time.Duration
	concurrency int
	metrics     string
	ui          bool
	printCreds  bool

	leaderElect   bool
	leaseName     string
	leaseDuration time.Duration
	// leader reports whether this replica runs the schedule (with
	// --leader-elect), for the status page.
	leader func() (bool, string)
}

// uiEvents is how many audit events the status page's timeline keeps.
const uiEvents = 2000

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// basicAuth lets through requests whose basic auth is user:password,
// compared in constant time.
func basicAuth(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="rotor", charset="UTF-8"`)
			http.Error(w, "authenticate with the server's access key id and secret access key", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type serverJSON struct {
	Endpoint        string `json:"Endpoint"`
	Region          string `json:"Region"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey,omitempty"`
	CredentialsFile string `json:"CredentialsFile,omitempty"`
	Store           string `json:"Store"`
}

// checkListen refuses an address other machines can reach, unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen: want host:port such as 127.0.0.1:8200")
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("the --listen address can be reached from other machines, and the server hands every secret to anyone with its key: listen on 127.0.0.1, or pass --allow-remote and put TLS in front")
}

func (r *runner) server(o *serverOptions) error {
	if err := checkListen(o.listen, o.allowRemote); err != nil {
		return err
	}
	if o.interval < 0 {
		return usagef("--check-interval must not be negative")
	}
	if o.metrics != "" {
		if err := checkListen(o.metrics, o.allowRemote); err != nil {
			return usagef("--metrics-listen: %s", strings.TrimPrefix(userMessage(err), "the --listen address"))
		}
	}
	if o.ui && o.metrics == "" {
		return usagef("--ui serves the status page on the --metrics-listen address: give --metrics-listen too")
	}
	if o.leaderElect && o.leaseDuration < time.Second {
		return usagef("--leader-lease-duration must be at least 1s")
	}
	if o.concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	path, err := r.storePath()
	if err != nil {
		return err
	}
	creds, err := loadCredentials(r.env, path)
	if err != nil {
		return fmt.Errorf("server credentials: %w", err)
	}
	info := serverJSON{Endpoint: "http://" + o.listen, Region: o.region, AccessKeyID: creds.AccessKeyID,
		CredentialsFile: creds.File, Store: r.g.store + ":" + path}
	if o.printCreds {
		return r.printCredentials(info, creds)
	}
	st, err := r.store()
	if err != nil {
		return err
	}
	var ks *kube.Store
	elected := &leaderState{}
	if o.leaderElect {
		var ok bool
		if ks, ok = st.(*kube.Store); !ok {
			return usagef("--leader-elect elects on a Kubernetes Lease: it needs --store kube")
		}
		o.leader = elected.get
	}
	var metricsSrv *http.Server
	if o.metrics != "" {
		m := metrics.New(st, r.log)
		r.auditTo = audit.Tee(r.auditTo, m.Sink())
		m.SetExpiry(func(ctx context.Context, d *store.Description) (time.Time, bool, error) {
			eng, err := r.engine()
			if err != nil {
				return time.Time{}, false, err
			}
			return eng.CredentialExpiry(ctx, d)
		})
		mln, err := net.Listen("tcp", o.metrics)
		if err != nil {
			return fmt.Errorf("listen on %s for metrics: %w: choose another address with --metrics-listen", o.metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		if o.ui {
			ring := audit.NewRing(uiEvents)
			r.auditTo = audit.Tee(r.auditTo, ring.Sink())
			page := statuspage.Handler(statuspage.Config{Store: st, Events: ring, Now: r.now, Log: r.log, Leader: o.leader})
			mux.Handle("/", page)
		}
		var h http.Handler = mux
		if !isLoopback(mln.Addr()) {
			// Reachable from other machines (--allow-remote): the page and
			// the metrics want the server's own key, as HTTP basic auth.
			h = basicAuth(creds.AccessKeyID, creds.SecretAccessKey, mux)
		}
		metricsSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelError)}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				r.log.Error("metrics listener stopped", "error", err)
			}
		}()
		defer metricsSrv.Close()
		r.log.Info("serving Prometheus metrics", "endpoint", "http://"+mln.Addr().String()+"/metrics")
		if o.ui {
			r.log.Info("serving the status page", "endpoint", "http://"+mln.Addr().String()+"/")
		}
		if r.app.MetricsListening != nil {
			r.app.MetricsListening(mln.Addr().String())
		}
	}
	eng, err := r.engine()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w: choose another address with --listen", o.listen, err)
	}
	info.Endpoint = "http://" + ln.Addr().String()
	h := smapi.NewHandler(smapi.Config{
		Store:       st,
		Credentials: map[string]string{creds.AccessKeyID: creds.SecretAccessKey},
		Region:      o.region,
		Logger:      r.log,
		// Signatures are checked against the wall clock, not App.Now.
		Rotate: r.rotateFunc(eng),
		Cancel: r.cancelFunc(eng),
		Put:    eng.PutValue,
		Check:  func(ctx context.Context, id string) error { return eng.Check(ctx, id, nil) },
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(r.ctx) },
		ErrorLog:    slog.NewLogLogger(r.log.Handler(), slog.LevelError)}
	if err := r.emit(info, func(w io.Writer) {
		fmt.Fprintf(w, "serving the Secrets Manager API on %s (region %s, store %s)\n", info.Endpoint, info.Region, info.Store)
		fmt.Fprintf(w, "access key id %s (from %s); `rotor server --print-credentials` prints both keys as exports\n", creds.AccessKeyID, creds.From)
	}); err != nil {
		ln.Close()
		return err
	}
	if r.app.Listening != nil {
		r.app.Listening(ln.Addr().String())
	}

	var wg sync.WaitGroup
	schedCtx, stopSched := context.WithCancel(r.ctx)
	defer stopSched()
	if o.interval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schedule := func(ctx context.Context) { r.schedule(ctx, o.interval, o.concurrency) }
			if ks != nil {
				if err := r.runElected(schedCtx, ks, o.leaseName, o.leaseDuration, elected, schedule); err != nil {
					r.log.Error("scheduled rotations", "error", err)
				}
				return
			}
			schedule(schedCtx)
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err = <-serveErr:
		stopSched()
		wg.Wait()
		return fmt.Errorf("serve on %s: %w", info.Endpoint, err)
	case <-r.ctx.Done():
	}
	r.log.Info("shutting down", "endpoint", info.Endpoint)
	stopSched()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	wg.Wait()
	if serr := <-serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	r.log.Info("stopped")
	return nil
}

func (r *runner) printCredentials(info serverJSON, creds *serverCredentials) error {
	info.SecretAccessKey = creds.SecretAccessKey
	return r.emit(info, func(w io.Writer) {
		fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s\n", shellQuote(creds.AccessKeyID))
		fmt.Fprintf(w, "export AWS_SECRET_ACCESS_KEY=%s\n", shellQuote(creds.SecretAccessKey))
		fmt.Fprintf(w, "export AWS_REGION=%s\n", shellQuote(info.Region))
		// aws CLI v1 reads only AWS_DEFAULT_REGION.
		fmt.Fprintf(w, "export AWS_DEFAULT_REGION=%s\n", shellQuote(info.Region))
		fmt.Fprintf(w, "export AWS_ENDPOINT_URL_SECRETS_MANAGER=%s\n", shellQuote(info.Endpoint))
	})
}

func shellQuote(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
		} else {
			out += string(c)
		}
	}
	return out + "'"
}

// rotateFunc runs RotateSecret's rotation with the engine.
// RotateImmediately=false tests the configuration only, as on AWS: the
// kind's testSecret against the current value, after which the empty
// AWSPENDING placeholder RotateSecret made is removed.
func (r *runner) rotateFunc(eng *engine.Engine) smapi.RotateFunc {
	return func(ctx context.Context, secretID, token string, rules *store.RotationRules, immediately bool) error {
		if immediately {
			_, err := eng.Rotate(ctx, engine.RotateInput{SecretID: secretID, Token: token, Rules: rules})
			return err
		}
		return eng.TestConfiguration(ctx, secretID, token, rules)
	}
}

// cancelFunc runs CancelRotateSecret with the engine, which also revokes
// the credential the abandoned rotation had created. A revocation that
// fails after the rotation was abandoned does not fail the request: the
// cancellation happened, and the engine retries the revocation with the
// next rotation.
func (r *runner) cancelFunc(eng *engine.Engine) smapi.CancelFunc {
	return func(ctx context.Context, secretID string) error {
		abandoned, err := eng.Cancel(ctx, secretID)
		if err != nil && abandoned != "" {
			r.log.Error("rotation abandoned, but its credential is not revoked yet; the next rotation retries",
				"secret", secretID, "version", abandoned, "error", err)
			return nil
		}
		return err
	}
}

// schedule rotates due secrets at start and every interval until ctx ends,
// with up to concurrency rotations at once. A secret that keeps failing is
// retried after interval, then twice as long after each further failure,
// up to an hour.
func (r *runner) schedule(ctx context.Context, interval time.Duration, concurrency int) {
	st, err := r.store()
	if err != nil {
		r.log.Error("scheduled rotations", "error", err)
		return
	}
	sched := scheduler.New(scheduler.Config{Store: st, Concurrency: concurrency, BackoffFirst: interval, BackoffMax: time.Hour, Now: r.now, Log: r.log, Later: r.rotatesLater})
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sr := *r
		sr.ctx = ctx
		j, err := sr.rotateDue(false, nil, 0, sched)
		for _, rot := range j.Rotations {
			r.log.Info("scheduled rotation done", "secret", rot.ARN, "version", rot.VersionID, "previous", rot.PreviousID)
		}
		if err != nil && ctx.Err() == nil {
			for _, l := range lines(err) {
				r.log.Error("scheduled rotation failed", "error", l)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
