package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

var mariaDirs = []string{"/usr/sbin", "/usr/bin"}

var maria lazy

// MariaDB returns the test binary's MariaDB server, starting it on first
// use. It listens on 127.0.0.1 only, requires TLS of every connection, and
// its superuser is admin@127.0.0.1.
func MariaDB(t testing.TB) *Server {
	t.Helper()
	return maria.get(t, "MariaDB (Debian package mariadb-server)", startMariaDB, func() error {
		if _, err := lookBin(mariaDirs, "mariadb-install-db"); err != nil {
			return err
		}
		_, err := lookBin(mariaDirs, "mariadbd")
		return err
	})
}

func startMariaDB() (*Server, func(), error) {
	install, _ := lookBin(mariaDirs, "mariadb-install-db")
	mariadbd, _ := lookBin(mariaDirs, "mariadbd")
	r, err := serverUser()
	if err != nil {
		return nil, nil, err
	}
	dir, err := r.dir("rotor-mariadb-")
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Server, func(), error) { _ = os.RemoveAll(dir); return nil, nil, err }
	data := filepath.Join(dir, "data")
	if err := run(r.command(install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=socket", "--skip-test-db")); err != nil {
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
	pw := randomHex(16)
	// The init file makes the superuser at every start; its password is
	// a literal of hex digits.
	initFile := filepath.Join(dir, "init.sql")
	if err := r.write(initFile, []byte(fmt.Sprintf(
		"CREATE OR REPLACE USER 'admin'@'127.0.0.1' IDENTIFIED BY '%s';\nGRANT ALL PRIVILEGES ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;\n", pw))); err != nil {
		return fail(err)
	}
	cmd := r.command(mariadbd, "--no-defaults", "--datadir="+data, "--socket="+filepath.Join(dir, "mysqld.sock"),
		"--pid-file="+filepath.Join(dir, "mysqld.pid"), "--port="+fmt.Sprint(port), "--bind-address=127.0.0.1",
		"--skip-networking=0", "--skip-name-resolve", "--init-file="+initFile,
		"--ssl-ca="+c.CA, "--ssl-cert="+c.Cert, "--ssl-key="+c.Key, "--require-secure-transport=ON",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--innodb-flush-log-at-trx-commit=0",
		"--skip-log-bin", "--max-connections=300", "--log-error="+filepath.Join(dir, "error.log"))
	d, err := start(cmd, filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	d.log = filepath.Join(dir, "error.log")
	srv := &Server{Host: "127.0.0.1", Port: port, User: "admin", Password: pw, CAFile: c.CA}
	stop := func() { d.stop(); _ = os.RemoveAll(dir) }
	if err := d.ready(func(ctx context.Context) error {
		db := srv.MySQLOpen(srv.User, srv.Password)
		defer db.Close()
		return db.PingContext(ctx)
	}); err != nil {
		stop()
		return nil, nil, err
	}
	return srv, stop, nil
}

// MySQLOpen returns a handle on the MariaDB server for user, over TLS
// verified against the test CA. Nothing connects until it is used.
func (s *Server) MySQLOpen(user, password string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = user, password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", s.Addr(), ""
	cfg.TLS = s.TLSConfig()
	cfg.Timeout = 10 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // only for a malformed configuration, which the above is not
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(0)
	return db
}

// MySQLAdmin returns a handle for the superuser, closed when t ends.
func (s *Server) MySQLAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db := s.MySQLOpen(s.User, s.Password)
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("connect to MariaDB as %s: %v", s.User, err)
	}
	return db
}
