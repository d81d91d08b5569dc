package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/database"
	"github.com/rotorhq/rotor/internal/secret"
)

func myWorld(t *testing.T, strategy, initialPassword string) (*world, secret.Value) {
	srv := dbtest.MariaDB(t)
	admin := srv.MySQLAdmin(t)
	ctx := context.Background()
	user := dbtest.Name("app")
	var stmt string
	if err := admin.QueryRowContext(ctx, "SELECT CONCAT('CREATE USER ', QUOTE(?), '@''127.0.0.1'' IDENTIFIED BY ', QUOTE(?))", user, initialPassword).Scan(&stmt); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("create the user: %v", err)
	}
	alt := strategy == database.AlternatingUsers
	w := &world{engine: "mysql", srv: srv, user: user, seen: map[[2]string]bool{},
		kind: database.MySQL(database.Deps{Secrets: secrets{masterARN: dbValue("mysql", srv, srv.User, srv.Password, false)}}),
		opts: rotator.Options{database.OptStrategy: strategy, database.OptCAFile: srv.CAFile},
		works: func(ctx context.Context, u, p string) bool {
			db := srv.MySQLOpen(u, p)
			defer db.Close()
			return db.PingContext(ctx) == nil
		},
		hasPassword: func(ctx context.Context, u string) bool {
			var n int
			_ = admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.global_priv WHERE User = ? AND JSON_VALUE(Priv, '$.account_locked') IS NOT TRUE", u).Scan(&n)
			return n > 0
		},
	}
	w.grantRead = func(t *testing.T) func(ctx context.Context, user, pw string) error {
		db := dbtest.Name("d")
		for _, q := range []string{"CREATE DATABASE " + db, "CREATE TABLE " + db + ".t (n int)", "INSERT INTO " + db + ".t VALUES (42)",
			"GRANT SELECT ON " + db + ".* TO '" + user + "'@'127.0.0.1'"} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		return func(ctx context.Context, u, p string) error {
			h := srv.MySQLOpen(u, p)
			defer h.Close()
			var n int
			if err := h.QueryRowContext(ctx, "SELECT n FROM "+db+".t").Scan(&n); err != nil || n != 42 {
				return fmt.Errorf("read %d: %v", n, err)
			}
			return nil
		}
	}
	w.bareUser = func(t *testing.T, u, p string) {
		var stmt string
		if err := admin.QueryRowContext(ctx, "SELECT CONCAT('CREATE USER ', QUOTE(?), '@''127.0.0.1'' IDENTIFIED BY ', QUOTE(?))", u, p).Scan(&stmt); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	initial := dbValue("mysql", srv, user, initialPassword, alt)
	w.id(initial)
	return w, initial
}

func TestMySQLSingleUserConformance(t *testing.T) {
	conformance(t, myWorld, database.SingleUser, true)
}

func TestMySQLAlternatingConformance(t *testing.T) {
	conformance(t, myWorld, database.AlternatingUsers, false)
}
