package local

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// Store is the embedded store. It is safe for concurrent use by goroutines
// and, when file-backed, by processes sharing the file.
type Store struct {
	mu      sync.Mutex // held by the operation, or group of them, running
	now     func() time.Time
	rand    io.Reader
	region  string
	account string
	db      *db
	file    *file   // nil for a memory store
	backend Backend // set by NewWithBackend
	closed  bool

	locksMu  sync.Mutex
	memLocks map[string]bool        // rotation locks of a memory store, by ARN
	writers  map[string]*writeQueue // LockWrite's waiters in this process, by ARN

	// Operations waiting to run in the next group (see group.go).
	queueMu sync.Mutex
	queue   []*request
	leading bool

	// LastAccessedDate changes not yet written to the file (see access.go).
	access map[string]*accessNote
	// expired is the secrets past their recovery window that groups of
	// reads came across, which the next write removes from the file.
	expired map[string]bool
	// notesTimer writes both (flushNotesLater) when no write has by then.
	notesTimer  *time.Timer
	accessDelay time.Duration
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.RotationLocker = (*Store)(nil)
	_ store.WriteLocker    = (*Store)(nil)
)

func newStore(cfg Config) *Store {
	s := &Store{now: cfg.Now, rand: cfg.Rand, region: cfg.Region, account: cfg.AccountID, db: newDB(), accessDelay: defaultAccessDelay}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "000000000000"
	}
	return s
}

// NewMemory returns a store that keeps everything in memory, with the same
// semantics as a file store. Path, Key and KeyFile are ignored.
func NewMemory(cfg Config) *Store {
	s := newStore(cfg)
	s.memLocks = make(map[string]bool)
	return s
}

// Open opens the store file at cfg.Path, creating it (and its key file, see
// Config.Key) when it does not exist.
func Open(cfg Config) (*Store, error) {
	s := newStore(cfg)
	path := cfg.Path
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store path %q: %w", cfg.Path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	lock, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock file: %w", err)
	}
	f := &file{path: path, lock: lock, keyFile: cfg.KeyFile, log: cfg.Logger}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.keyFile == "" {
		f.keyFile = DefaultKeyFile(path)
	}
	if err := f.start(cfg); err != nil {
		lock.Close()
		return nil, err
	}
	s.file = f
	s.db = nil // a group's db reads from the file (see runFileGroup)
	return s, nil
}

// Close releases the store's files; the store fails every call after it.
// Rotation locks already taken stay held until their unlock is called.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.file == nil {
		s.closed = true
		return nil
	}
	if len(s.access) > 0 || len(s.expired) > 0 {
		r := &request{fn: func(tx *txn) error { tx.flush = true; return nil }}
		if s.runGroup([]*request{r}); r.err != nil {
			s.file.log.Warn("could not record when secrets were last read", "error", r.err)
		}
	}
	s.notesWritten()
	s.closed = true
	return s.file.lock.Close()
}

// Path returns the store file, or "" for a memory store.
func (s *Store) Path() string {
	if s.file == nil {
		return ""
	}
	return s.file.path
}

var errClosed = errors.New("the store is closed")

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n characters of alphabet chosen from s.rand.
func (s *Store) randomString(n int, alphabet string) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	limit := 256 - 256%len(alphabet)
	for len(out) < n {
		if _, err := io.ReadFull(s.rand, buf); err != nil {
			return "", fmt.Errorf("random source: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// newToken returns a random UUID v4, the form of the version ids AWS makes.
func (s *Store) newToken() (string, error) { return store.NewToken(s.rand) }

// tokenOr validates tok, or makes one when it is empty.
func (s *Store) tokenOr(tok string) (string, error) {
	if tok == "" {
		return s.newToken()
	}
	return tok, validToken(tok)
}

func (s *Store) arn(d *db, name string) (string, error) {
	for {
		suffix, err := s.randomString(6, alnum)
		if err != nil {
			return "", err
		}
		arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, name, suffix)
		if d.lookup(arn) == nil {
			if d.err != nil {
				return "", d.err
			}
			return arn, nil
		}
	}
}
