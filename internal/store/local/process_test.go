package local

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// The multi-process tests run this test binary again as a child process in
// the mode named by helperEnv. The child reports progress on stdout, one
// line per event.
const (
	helperEnv  = "ROTOR_LOCAL_HELPER"
	helperPath = "ROTOR_LOCAL_HELPER_STORE"
	helperArg  = "ROTOR_LOCAL_HELPER_ARG"
	// childTimeout bounds how long a test waits for a child.
	childTimeout = 2 * time.Minute
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("the child process of the multi-process tests")
	}
	s, err := Open(Config{Path: os.Getenv(helperPath)})
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	arg := os.Getenv(helperArg)
	ctx := context.Background()
	switch mode {
	case "writer":
		err = childWriter(ctx, s, arg)
	case "counter":
		err = childCounter(ctx, s, arg)
	case "lock":
		err = childLock(ctx, s, arg)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	fmt.Println("done")
	os.Exit(0)
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	stdin io.WriteCloser
}

func startChild(t *testing.T, path string, key []byte, mode, arg string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPath+"="+path, helperArg+"="+arg,
		KeyEnv+"="+base64.StdEncoding.EncodeToString(key))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024), stdin: stdin}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	watchdog := time.AfterFunc(childTimeout, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		watchdog.Stop()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return c
}

// next returns the child's next line, failing on an error line or its end.
func (c *child) next(t *testing.T) string {
	t.Helper()
	line, ok := <-c.lines
	if !ok {
		t.Fatalf("child process ended early: %v", c.cmd.Wait())
	}
	if strings.HasPrefix(line, "error ") {
		t.Fatalf("child process: %s", line)
	}
	return line
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	for range c.lines { // drain what it wrote before it died
	}
}

func writerSecret(i int) string { return fmt.Sprintf("crash/s%d", i%10) }
func writerToken(i int) string  { return fmt.Sprintf("token-%026d", i) }
func writerValue(i int) string {
	return fmt.Sprintf("value-%d-", i) + strings.Repeat("x", 200+i%300)
}

// childWriter writes versions from an index on, forever, reporting each
// acknowledged write as "ack <i>". arg is "<first index>" or
// "<first index>,<stage>,<n>": then the child also stops dead ("blocked") at
// that stage of the first group (see file.hook) after n
// acknowledged writes, for the parent to kill it there.
func childWriter(ctx context.Context, s *Store, arg string) error {
	first, block, _ := strings.Cut(arg, ",")
	start, err := strconv.Atoi(first)
	if err != nil {
		return err
	}
	acked := 0
	if stage, n, ok := strings.Cut(block, ","); ok {
		after, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		s.file.hook = func(at string) {
			if at == stage && acked >= after {
				fmt.Println("blocked")
				select {} // until killed
			}
		}
	}
	for i := start; ; i++ {
		_, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: writerSecret(i), ClientRequestToken: writerToken(i),
			Value: secret.New(writerValue(i))})
		if err != nil {
			return err
		}
		fmt.Printf("ack %d\n", i)
		acked++
	}
}

// TestKilledWriter kills a process in the middle of a long series of writes,
// several times, and checks that the store opens with every write it
// acknowledged.
func TestKilledWriter(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		v := secret.New("initial")
		if _, err := s.CreateSecret(t.Context(), store.CreateSecretInput{Name: writerSecret(i), Value: &v}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	acked := 0
	// Each round kills the writer: after n acknowledged writes, in the
	// middle of whatever it does then, or at a stage of a group: with the
	// database open, with the changes in the transaction before its commit,
	// or after the commit and before the write is acknowledged.
	for round, tc := range []struct {
		n     int
		stage string
	}{{150, ""}, {40, "written"}, {61, ""}, {30, "committed"}, {25, "opened"}, {237, ""}} {
		arg := strconv.Itoa(acked)
		if tc.stage != "" {
			arg += fmt.Sprintf(",%s,%d", tc.stage, tc.n)
		}
		c := startChild(t, path, key, "writer", arg)
		for seen := 0; tc.stage != "" || seen < tc.n; seen++ {
			line := c.next(t)
			if line == "blocked" {
				break
			}
			i, err := strconv.Atoi(strings.TrimPrefix(line, "ack "))
			if err != nil || i != acked {
				t.Fatalf("round %d: child said %q, want ack %d", round, line, acked)
			}
			acked++
		}
		c.kill(t)
		checkAcked(t, path, key, acked)
	}
}

func checkAcked(t *testing.T, path string, key []byte, acked int) {
	t.Helper()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatalf("open the store after a killed writer: %v", err)
	}
	defer s.Close()
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".store.db.tmp-*")); len(tmp) > 0 {
		t.Fatalf("temporary files left after opening: %v", tmp)
	}
	for i := range acked {
		out, err := s.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: writerSecret(i), VersionID: writerToken(i)})
		if err != nil {
			t.Fatalf("acknowledged version %d: %v", i, err)
		}
		if out.Value.Text() != writerValue(i) {
			t.Fatalf("acknowledged version %d has another value", i)
		}
	}
	for i := max(0, acked-10); i < acked; i++ {
		d, err := s.DescribeSecret(t.Context(), writerSecret(i))
		if err != nil {
			t.Fatal(err)
		}
		cur := d.VersionWithStage(store.Current)
		if cur < writerToken(i) { // tokens sort by index
			t.Fatalf("%s: current version %s is older than the acknowledged %s", writerSecret(i), cur, writerToken(i))
		}
	}
}

// childCounter increments a counter kept in secret "counter" arg-many times,
// each increment a compare-and-swap of AWSCURRENT, and writes as many
// versions to a secret of its own.
func childCounter(ctx context.Context, s *Store, arg string) error {
	id, n, _ := strings.Cut(arg, ":")
	count, err := strconv.Atoi(n)
	if err != nil {
		return err
	}
	for done := 0; done < count; {
		d, err := s.DescribeSecret(ctx, "counter")
		if err != nil {
			return err
		}
		cur := d.VersionWithStage(store.Current)
		v, err := s.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: "counter", VersionID: cur})
		if err != nil {
			return err
		}
		x, err := strconv.Atoi(v.Value.Text())
		if err != nil {
			return err
		}
		tok, _ := s.newToken()
		if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: "counter", ClientRequestToken: tok,
			Value: secret.New(strconv.Itoa(x + 1)), VersionStages: []string{"next-" + id}}); err != nil {
			return err
		}
		err = moveCurrent(ctx, s, "counter", tok, cur)
		if store.CodeOf(err) == store.ErrInvalidParameter {
			continue // the other process moved AWSCURRENT first: retry
		}
		if err != nil {
			return err
		}
		own, _ := s.newToken()
		if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: "own-" + id, ClientRequestToken: own,
			Value: secret.New(own)}); err != nil {
			return err
		}
		fmt.Printf("own %s\n", own)
		done++
	}
	return nil
}

func moveCurrent(ctx context.Context, s store.Store, id, to, from string) error {
	_, err := s.UpdateSecretVersionStage(ctx, store.UpdateSecretVersionStageInput{SecretID: id, VersionStage: store.Current,
		MoveToVersionID: to, RemoveFromVersionID: from})
	return err
}

// TestConcurrentProcesses runs two processes that update the same store at
// once and checks that no update was lost.
func TestConcurrentProcesses(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"counter", "own-a", "own-b"} {
		v := secret.New("0")
		if _, err := s.CreateSecret(t.Context(), store.CreateSecretInput{Name: name, Value: &v}); err != nil {
			t.Fatal(err)
		}
	}
	const each = 40
	owns := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		c := startChild(t, path, key, "counter", fmt.Sprintf("%s:%d", id, each))
		wg.Go(func() {
			for line := range c.lines {
				mu.Lock()
				owns[id] = append(owns[id], line)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, id := range []string{"a", "b"} {
		lines := owns[id]
		if len(lines) != each+1 || lines[each] != "done" {
			t.Fatalf("child %s said %q, want %d versions and done", id, lines, each)
		}
		for _, line := range lines[:each] {
			tok := strings.TrimPrefix(line, "own ")
			out, err := s.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: "own-" + id, VersionID: tok})
			if err != nil || out.Value.Text() != tok {
				t.Fatalf("version %s written by child %s is lost: %v", tok, id, err)
			}
		}
	}
	out, err := s.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Value.Text() != strconv.Itoa(2*each) {
		t.Fatalf("counter = %s after %d increments: updates were lost", out.Value.Text(), 2*each)
	}
}

// childLock holds the rotation lock of secret arg until it is killed.
func childLock(ctx context.Context, s *Store, arg string) error {
	if _, err := s.LockRotation(ctx, arg); err != nil {
		return err
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // until the parent kills us
	return nil
}

func TestRotationLockAcrossProcesses(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := secret.New("v")
	if _, err := s.CreateSecret(t.Context(), store.CreateSecretInput{Name: "app/db", Value: &v}); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, path, key, "lock", "app/db")
	if line := c.next(t); line != "locked" {
		t.Fatalf("child said %q, want locked", line)
	}
	_, err = s.LockRotation(t.Context(), "app/db")
	if store.CodeOf(err) != store.ErrRotationInProgress || !strings.Contains(err.Error(), "app/db") {
		t.Fatalf("LockRotation while another process holds it: %v, want %s naming app/db", err, store.ErrRotationInProgress)
	}
	c.kill(t)
	unlock, err := s.LockRotation(t.Context(), "app/db")
	if err != nil {
		t.Fatalf("LockRotation after the holder died: %v", err)
	}
	unlock()
}
