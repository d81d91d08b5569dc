package dbtest_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The server accepts the superuser over verified TLS and refuses a
// connection without TLS.
func TestPostgres(t *testing.T) {
	srv := dbtest.Postgres(t)
	ctx := context.Background()
	conn := srv.PgAdmin(t)
	var ssl bool
	if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Fatalf("connection over TLS: ssl=%v, %v", ssl, err)
	}
	if _, err := srv.PgConnect(ctx, srv.User, "wrong"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	cfgConn, err := pgconn.Connect(ctx, "host=127.0.0.1 sslmode=disable user=postgres dbname=postgres port="+strconv.Itoa(srv.Port)+" password="+srv.Password)
	if err == nil {
		cfgConn.Close(ctx)
		t.Fatal("a connection without TLS was accepted")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Logf("refused: %v", err)
	}
}

// The server accepts the superuser over verified TLS and refuses a
// connection without TLS.
func TestMariaDB(t *testing.T) {
	srv := dbtest.MariaDB(t)
	db := srv.MySQLAdmin(t)
	var cipher, name string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil || cipher == "" {
		t.Fatalf("connection over TLS: cipher %q, %v", cipher, err)
	}
	bad := srv.MySQLOpen(srv.User, "wrong")
	defer bad.Close()
	if err := bad.Ping(); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = srv.User, srv.Password, "tcp", srv.Addr()
	conn, _ := mysql.NewConnector(cfg)
	plain := sql.OpenDB(conn)
	defer plain.Close()
	if err := plain.Ping(); err == nil {
		t.Fatal("a connection without TLS was accepted")
	}
}
