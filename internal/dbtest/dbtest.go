// Package dbtest starts throwaway PostgreSQL and MariaDB servers for tests:
// one of each per test binary, started on first use in a temporary
// directory on a free loopback port, as an unprivileged user, and reached
// only over TLS with a certificate from a CA made for the run.
//
// A test package calls Main from TestMain, so that the servers are stopped
// when its tests end, and Postgres or MariaDB from a test. Where the
// server's binaries are not installed the test is skipped, except under CI
// (env CI set), where it fails: .ci/run installs them.
package dbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running database server and its superuser.
type Server struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // the superuser
	Password string
	// CAFile is the PEM file of the CA that signed the server's
	// certificate (for 127.0.0.1 and localhost).
	CAFile string
	// Database is a database the superuser can connect to (none for MariaDB).
	Database string
	// LogFile is the server's log (PostgreSQL: every statement).
	LogFile string
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

var (
	mu      sync.Mutex
	cleanup []func()
)

// Main runs the tests and then stops every server they started.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for i := len(cleanup) - 1; i >= 0; i-- {
		cleanup[i]()
	}
	mu.Unlock()
	os.Exit(code)
}

func atExit(f func()) {
	mu.Lock()
	defer mu.Unlock()
	cleanup = append(cleanup, f)
}

// missing skips t, or fails it under CI, for a server that is not installed.
func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, and CI installs it (.ci/run): %v", what, err)
	}
	t.Skipf("%s is not installed (%v): install it to run this test", what, err)
}

// runAs is the user a server runs as: nobody when the tests run as root
// (initdb and postgres refuse root), the current user otherwise.
type runAs struct {
	uid, gid int
	cred     *syscall.Credential
}

func serverUser() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return runAs{}, fmt.Errorf("look up the user nobody to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return runAs{uid: uid, gid: gid, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

func (r runAs) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred, Setpgid: true}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/nonexistent"}
	return cmd
}

// dir makes a temporary directory the server's user owns.
func (r runAs) dir(prefix string) (string, error) {
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chown(d, r.uid, r.gid); err != nil {
		_ = os.RemoveAll(d)
		return "", err
	}
	return d, nil
}

// write writes a file the server's user owns, readable by it alone.
func (r runAs) write(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chown(path, r.uid, r.gid)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs cmd and returns its error with its output.
func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// daemon is a started server process.
type daemon struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

func start(cmd *exec.Cmd, logPath string) (*daemon, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	d := &daemon{cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait(); f.Close() }()
	return d, nil
}

// stop ends the server and waits for it.
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

// ready waits until probe succeeds, the server exits, or time runs out.
func (d *daemon) ready(probe func(context.Context) error) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("the server exited (%v):\n%s", err, tail(d.log))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		last = probe(ctx)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the server did not accept connections within a minute (%v):\n%s", last, tail(d.log))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// lazy starts a server once per test binary and remembers its failure.
type lazy struct {
	once sync.Once
	srv  *Server
	err  error
	miss error // the binaries are missing
}

func (l *lazy) get(t testing.TB, what string, startFn func() (*Server, func(), error), find func() error) *Server {
	t.Helper()
	l.once.Do(func() {
		if err := find(); err != nil {
			l.miss = err
			return
		}
		srv, stop, err := startFn()
		if err != nil {
			l.err = err
			return
		}
		l.srv = srv
		atExit(stop)
	})
	if l.miss != nil {
		missing(t, what, l.miss)
	}
	if l.err != nil {
		t.Fatalf("start %s: %v", what, l.err)
	}
	return l.srv
}

var errNotFound = errors.New("not found")

func lookBin(dirs []string, name string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", name, errNotFound)
}
