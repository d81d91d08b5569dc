package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/rotator/jfrog"
	"github.com/rotorhq/rotor/internal/secret"
)

// envJFrogAdminToken is where set-role and get-role look for the admin
// token by default.
const envJFrogAdminToken = "JFROG_ADMIN_TOKEN"

// jfrogTimeout bounds each call to JFrog.
const jfrogTimeout = 30 * time.Second

// jfrogFlags says which subcommands accept each of the command's flags.
var jfrogFlags = map[string][]string{
	"host":               {"set-role", "get-role"},
	"user":               {"set-role", "get-role"},
	"role":               {"set-role"},
	"admin-token-stdin":  {"set-role", "get-role"},
	"admin-token-env":    {"set-role", "get-role"},
	"admin-token-secret": {"set-role", "get-role"},
	"ttl":                {"check-ttl"},
}

func jfrogCmd() *command {
	return &command{
		name:    "jfrog",
		usage:   "(set-role --host H --user U --role ARN | get-role --host H --user U | check-ttl NAME [--ttl D])",
		summary: "JFrog helpers: map an IAM role to a JFrog user, read the mapping, check a token TTL.",
		help: `
set-role is the one-time admin step of the IAM role exchange: it maps the
IAM role of the rotation function (or of rotor server) to the JFrog user
whose tokens it rotates (PUT /access/api/v1/aws/iam_role), then reads the
mapping back to confirm it. get-role reads the mapping. JFrog accepts role
ARNs without a path only (arn:aws:iam::<account>:role/<name>).

Both need an admin's token, which is never a flag value (shell history and
the process list would keep it): --admin-token-stdin reads it from standard
input, --admin-token-secret ID from a secret in the selected store (the
value itself, or its access_token, password or token field), and otherwise
it comes from the environment variable --admin-token-env names.
--host is a bare host name (https) or a URL; http:// must be written out.

check-ttl checks a jfrog secret's token lifetime against its rotation rules,
as a rotation does before it issues a token: the token must outlive the
rotation interval plus the window plus a margin (10%, at least an hour).
The lifetime is --ttl, else the tag rotor:ttl, else ROTOR_TTL, else
SECRET_TTL (seconds, or a duration such as 12h). When it is too short,
check-ttl says which numbers to change and exits with 1.`,
		json: `
set-role, get-role: {"Host", "Username", "IAMRole"}
check-ttl: {"ARN", "Name", "TTLSeconds", "TTLFrom", "RotationRules", "Checked", "Safe",
 "IntervalSeconds", "WindowSeconds", "MarginSeconds", "RequiredSeconds", "Advice"}`,
		examples: []string{
			"rotor jfrog set-role --host mycompany.jfrog.io --user ci-bot --role arn:aws:iam::123456789012:role/rotor-rotation",
			"rotor jfrog get-role --host mycompany.jfrog.io --user ci-bot --admin-token-secret jfrog/admin",
			"pass show jfrog-admin | rotor jfrog get-role --host mycompany.jfrog.io --user ci-bot --admin-token-stdin",
			"rotor jfrog check-ttl ci/jfrog-token",
			"rotor jfrog check-ttl ci/jfrog-token --ttl 72h",
		},
		args: atLeastArgs("SUBCOMMAND"),
		setup: func(fs *flag.FlagSet) func(*runner, []string) error {
			host := fs.String("host", "", "JFrog platform `H`: a host name (https) or a URL (default $"+jfrog.EnvHost+")")
			user := fs.String("user", "", "JFrog `USER` the role is mapped to")
			role := fs.String("role", "", "IAM role `ARN` to map (arn:aws:iam::<account>:role/<name>)")
			var tok adminTokenFlags
			tok.register(fs)
			ttl := fs.String("ttl", "", "token lifetime `D` to check instead of the secret's: seconds or a duration such as 12h")
			return func(r *runner, args []string) error {
				sub := args[0]
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				for name := range set {
					if subs, ok := jfrogFlags[name]; ok && !slices.Contains(subs, sub) {
						return usageFor(r.cmd, "--%s does not apply to jfrog %s", name, sub)
					}
				}
				tok.envSet = set["admin-token-env"]
				switch sub {
				case "set-role":
					if len(args) > 1 {
						return usageFor(r.cmd, "%v", errTokenArgument)
					}
					return r.jfrogSetRole(*host, *user, *role, &tok)
				case "get-role":
					if len(args) > 1 {
						return usageFor(r.cmd, "%v", errTokenArgument)
					}
					return r.jfrogGetRole(*host, *user, &tok)
				case "check-ttl":
					if err := exactArgs("check-ttl", "NAME")(args); err != nil {
						return usageFor(r.cmd, "%v", err)
					}
					return r.jfrogCheckTTL(args[1], *ttl)
				}
				// Not shown: a token given by mistake would land here.
				return usageFor(r.cmd, "unknown jfrog subcommand: want set-role, get-role or check-ttl")
			}
		},
	}
}

// errTokenArgument is the error of an extra argument to set-role or
// get-role: the argument is not shown, for it may be the admin token.
var errTokenArgument = errors.New("unexpected extra argument; the admin token is read from --admin-token-stdin, --admin-token-secret or --admin-token-env")

// adminTokenFlags are the ways to give the JFrog admin token. None of them
// is a flag value.
type adminTokenFlags struct {
	stdin  bool
	env    string
	envSet bool // --admin-token-env was given
	secret string
}

func (a *adminTokenFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&a.stdin, "admin-token-stdin", false, "read the JFrog admin token from standard input")
	fs.StringVar(&a.env, "admin-token-env", envJFrogAdminToken, "read the admin token from environment variable `NAME`")
	fs.StringVar(&a.secret, "admin-token-secret", "", "read the admin token from secret `ID` of the selected store (the value, or its access_token, password or token field)")
}

// read returns the admin token from the one source given.
func (a *adminTokenFlags) read(r *runner) (secret.Value, error) {
	n := 0
	for _, b := range []bool{a.stdin, a.secret != "", a.envSet} {
		if b {
			n++
		}
	}
	if n > 1 {
		return secret.Value{}, usageFor(r.cmd, "give the admin token one way only: --admin-token-stdin, --admin-token-secret or --admin-token-env")
	}
	switch {
	case a.stdin:
		b, err := io.ReadAll(io.LimitReader(r.app.Stdin, maxValue+1))
		if err != nil {
			return secret.Value{}, fmt.Errorf("read the admin token from standard input: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" || len(b) > maxValue {
			return secret.Value{}, usageFor(r.cmd, "--admin-token-stdin: standard input holds no token (or more than %d bytes)", maxValue)
		}
		return secret.New(tok), nil
	case a.secret != "":
		v, err := r.ReadSecret(r.ctx, a.secret)
		if err != nil {
			return secret.Value{}, r.explain("read the admin token secret", a.secret, err)
		}
		tok, err := jfrog.AdminToken(v)
		if err != nil {
			return secret.Value{}, &failure{msg: fmt.Sprintf("admin token secret %s: %v: store the token alone, or as the access_token field", a.secret, err), err: err}
		}
		return secret.New(tok), nil
	}
	if a.env == "" {
		return secret.Value{}, usageFor(r.cmd, "--admin-token-env is empty: name the environment variable that holds the admin token")
	}
	tok := strings.TrimSpace(r.env[a.env])
	if tok == "" {
		return secret.Value{}, usageFor(r.cmd, "no JFrog admin token: $%s is empty; set it, or give --admin-token-stdin or --admin-token-secret ID", a.env)
	}
	return secret.New(tok), nil
}

type jfrogRoleJSON struct {
	Host     string `json:"Host"`
	Username string `json:"Username"`
	IAMRole  string `json:"IAMRole"`
}

// jfrogTarget checks --host and --user and returns the base URL.
func (r *runner) jfrogTarget(host, user string) (string, error) {
	if host == "" {
		host = r.env[jfrog.EnvHost]
	}
	if host == "" {
		return "", usageFor(r.cmd, "no JFrog host: give --host (e.g. mycompany.jfrog.io) or set %s", jfrog.EnvHost)
	}
	u, err := jfrog.ParseHost(host)
	if err != nil {
		return "", usageFor(r.cmd, "--host (or $%s): want https://host or a bare host name such as mycompany.jfrog.io", jfrog.EnvHost)
	}
	if user == "" {
		return "", usageFor(r.cmd, "no JFrog user: give --user, the user whose tokens the role's exchange yields")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		r.log.Warn("the admin token goes to JFrog over plain http; use https:// outside a private network", "host", u.Host)
	}
	return u.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (r *runner) jfrogSetRole(host, user, role string, tok *adminTokenFlags) error {
	base, err := r.jfrogTarget(host, user)
	if err != nil {
		return err
	}
	if role == "" {
		return usageFor(r.cmd, "no IAM role: give --role arn:aws:iam::<account>:role/<name>, the role of the rotation function")
	}
	if !jfrog.RoleARNPattern().MatchString(role) {
		return usageFor(r.cmd, "--role: JFrog accepts an IAM role ARN without a path, arn:aws:iam::<12 digits>:role/<name>")
	}
	admin, err := tok.read(r)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: jfrogTimeout}
	if err := jfrog.TagIAMRole(r.ctx, hc, base, admin, user, role); err != nil {
		return jfrogFailure("jfrog set-role", user, err)
	}
	got, err := jfrog.GetIAMRole(r.ctx, hc, base, admin, user)
	if err != nil {
		return jfrogFailure("jfrog set-role: read the mapping back", user, err)
	}
	if got != role {
		return &failure{msg: fmt.Sprintf("jfrog set-role: JFrog accepted the mapping but reads back %s for user %s, not %s: run `rotor jfrog get-role` again, or check that no one else changes it", got, user, role)}
	}
	j := jfrogRoleJSON{Host: base, Username: user, IAMRole: got}
	return r.emit(j, func(w io.Writer) {
		fmt.Fprintf(w, "mapped the IAM role to JFrog user %s\n", user)
		writeRole(w, j)
	})
}

func (r *runner) jfrogGetRole(host, user string, tok *adminTokenFlags) error {
	base, err := r.jfrogTarget(host, user)
	if err != nil {
		return err
	}
	admin, err := tok.read(r)
	if err != nil {
		return err
	}
	role, err := jfrog.GetIAMRole(r.ctx, &http.Client{Timeout: jfrogTimeout}, base, admin, user)
	if errors.Is(err, jfrog.ErrNoIAMRole) {
		return &failure{msg: fmt.Sprintf("jfrog get-role: no IAM role is mapped to JFrog user %s on %s: map one with `rotor jfrog set-role --host %s --user %s --role ARN`", user, base, base, user), err: err}
	}
	if err != nil {
		return jfrogFailure("jfrog get-role", user, err)
	}
	j := jfrogRoleJSON{Host: base, Username: user, IAMRole: role}
	return r.emit(j, func(w io.Writer) { writeRole(w, j) })
}

func writeRole(w io.Writer, j jfrogRoleJSON) {
	fmt.Fprintf(w, "HOST\t%s\n", j.Host)
	fmt.Fprintf(w, "USER\t%s\n", j.Username)
	fmt.Fprintf(w, "IAM ROLE\t%s\n", j.IAMRole)
}

// jfrogFailure adds what to do to an error of the JFrog admin API. The
// jfrog package keeps tokens out of its errors.
func jfrogFailure(action, user string, err error) error {
	var ae *jfrog.APIError
	var hint string
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		hint = "JFrog refused the admin token: check that it is current and belongs to this JFrog platform"
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		hint = "the token is not an admin's: mapping IAM roles needs a token of a JFrog admin"
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		hint = fmt.Sprintf("check that the JFrog user %s exists, and that the platform supports the IAM role exchange (Artifactory 7.x)", user)
	case errors.As(err, &ae):
		hint = "run the command again; if it persists, check JFrog's health"
	default:
		hint = "check --host and that JFrog is reachable from here"
	}
	return &failure{msg: action + ": " + userMessage(err) + ": " + hint, err: err}
}
