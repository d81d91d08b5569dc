package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

var pgDirs = []string{"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}

var pg lazy

// Postgres returns the test binary's PostgreSQL server, starting it on
// first use. It accepts only TLS connections from 127.0.0.1 with SCRAM
// passwords, logs every statement to LogFile, and its superuser is postgres.
func Postgres(t testing.TB) *Server {
	t.Helper()
	return pg.get(t, "PostgreSQL (Debian package postgresql)", startPostgres, func() error {
		_, err := lookBin(pgDirs, "initdb")
		return err
	})
}

func startPostgres() (*Server, func(), error) {
	initdb, _ := lookBin(pgDirs, "initdb")
	postgres, err := lookBin(pgDirs, "postgres")
	if err != nil {
		return nil, nil, err
	}
	r, err := serverUser()
	if err != nil {
		return nil, nil, err
	}
	dir, err := r.dir("rotor-pg-")
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Server, func(), error) { _ = os.RemoveAll(dir); return nil, nil, err }
	pw := randomHex(16)
	pwfile := filepath.Join(dir, "pwfile")
	if err := r.write(pwfile, []byte(pw+"\n")); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	if err := run(r.command(initdb, "-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")); err != nil {
		return fail(err)
	}
	c, err := makeCerts(dir, r)
	if err != nil {
		return fail(err)
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
ssl = on
ssl_cert_file = '%s'
ssl_key_file = '%s'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
log_min_messages = warning
log_statement = 'all'
`, port, dir, c.Cert, c.Key)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		return fail(err)
	}
	if err := r.write(filepath.Join(data, "pg_hba.conf"), []byte("hostssl all all 127.0.0.1/32 scram-sha-256\n")); err != nil {
		return fail(err)
	}
	d, err := start(r.command(postgres, "-D", data), filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	srv := &Server{Host: "127.0.0.1", Port: port, User: "postgres", Password: pw, CAFile: c.CA, Database: "postgres", LogFile: filepath.Join(dir, "server.log")}
	stop := func() { d.stop(); _ = os.RemoveAll(dir) }
	if err := d.ready(func(ctx context.Context) error {
		conn, err := srv.PgConnect(ctx, srv.User, srv.Password)
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}); err != nil {
		stop()
		return nil, nil, err
	}
	return srv, stop, nil
}

// TLSConfig returns a client configuration that verifies the server's
// certificate against the test CA.
func (s *Server) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.CAFile)
	pool := x509.NewCertPool()
	if err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &tls.Config{RootCAs: pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// PgConnect connects to the PostgreSQL server's database as user.
func (s *Server) PgConnect(ctx context.Context, user, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.Database = s.Host, uint16(s.Port), s.Database
	cfg.User, cfg.Password = user, password
	cfg.TLSConfig = s.TLSConfig()
	cfg.Fallbacks = nil
	return pgx.ConnectConfig(ctx, cfg)
}

// PgAdmin connects as the superuser and closes the connection when t ends.
func (s *Server) PgAdmin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := s.PgConnect(ctx, s.User, s.Password)
	if err != nil {
		t.Fatalf("connect to PostgreSQL as %s: %v", s.User, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Name returns a fresh identifier with prefix, unique in the server.
func Name(prefix string) string { return prefix + "_" + randomHex(6) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
