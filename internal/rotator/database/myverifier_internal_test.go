package database

import (
	"context"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
)

// TestMySQLPasswordNeverInTheGeneralLog changes passwords in the three
// ways the mysql kind does (its own, a new clone's, another user's) with
// the server's general query log on, then checks that the log holds none
// of the passwords and that they log in.
func TestMySQLPasswordNeverInTheGeneralLog(t *testing.T) {
	srv := dbtest.MariaDB(t)
	ctx := context.Background()
	admin := srv.MySQLAdmin(t)
	user := dbtest.Name("verifier")
	clone := user + "_clone"
	if _, err := admin.ExecContext(ctx, "CREATE USER '"+user+"'@'127.0.0.1' IDENTIFIED BY 'initial-verifier-pw-1'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP USER IF EXISTS '"+user+"'@'127.0.0.1', '"+clone+"'@'127.0.0.1'")
	})
	for _, q := range []string{"SET GLOBAL log_output = 'TABLE'", "TRUNCATE TABLE mysql.general_log", "SET GLOBAL general_log = ON"} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "SET GLOBAL general_log = OFF") })
	c := conn{Host: srv.Host, Port: srv.Port, TLS: srv.TLSConfig()}
	login := func(u, pw string) (session, error) {
		c := c
		c.User, c.Password = u, pw
		return myDriver{}.connect(ctx, c)
	}

	const own, cloned, set = `ownPa55word-0a1b'x`, `clonePa55word-2c3d'x`, `setPa55word-4e5f'x`
	s, err := login(user, "initial-verifier-pw-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.setOwnPassword(ctx, own); err != nil {
		t.Fatal(err)
	}
	s.close()
	m, err := login(srv.User, srv.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if err := m.createClone(ctx, user, clone, cloned); err != nil {
		t.Fatal(err)
	}
	for u, pw := range map[string]string{user: own, clone: cloned} {
		s, err := login(u, pw)
		if err != nil {
			t.Fatalf("log in as %s with the password rotor set: %v", u, err)
		}
		s.close()
	}
	if err := m.setPassword(ctx, clone, set); err != nil {
		t.Fatal(err)
	}
	if s, err := login(clone, set); err != nil {
		t.Fatalf("log in as %s with the password rotor set: %v", clone, err)
	} else {
		s.close()
	}
	if _, err := admin.ExecContext(ctx, "SET GLOBAL general_log = OFF"); err != nil {
		t.Fatal(err)
	}
	rows, err := admin.QueryContext(ctx, "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var log strings.Builder
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		log.WriteString(a + "\n")
	}
	if !strings.Contains(log.String(), "CREATE USER") {
		t.Fatalf("the general log did not record the statements, so the test proves nothing:\n%s", log.String())
	}
	for _, pw := range []string{own, cloned, set} {
		if part, _, _ := strings.Cut(pw, "'"); strings.Contains(log.String(), part) {
			t.Errorf("the general log holds a password rotor set (%s...)", pw[:3])
		}
	}
}

// An account of another plugin (ed25519) is not given a
// mysql_native_password hash, nor switched to that plugin by ALTER USER …
// IDENTIFIED BY: its password changes, it keeps its plugin, and it logs in.
func TestMySQLOtherPluginGetsThePassword(t *testing.T) {
	srv := dbtest.MariaDB(t)
	ctx := context.Background()
	admin := srv.MySQLAdmin(t)
	var have int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'").Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have == 0 {
		if _, err := admin.ExecContext(ctx, "INSTALL SONAME 'auth_ed25519'"); err != nil {
			t.Skipf("MariaDB's ed25519 plugin cannot be installed here: %v", err)
		}
	}
	user, clone := dbtest.Name("ed"), dbtest.Name("ed_clone")
	if _, err := admin.ExecContext(ctx, "CREATE USER '"+user+"'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('initial-ed-pw-1')"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP USER IF EXISTS '"+user+"'@'127.0.0.1', '"+clone+"'@'127.0.0.1'")
	})
	c := conn{Host: srv.Host, Port: srv.Port, TLS: srv.TLSConfig()}
	login := func(u, pw string) (session, error) {
		c := c
		c.User, c.Password = u, pw
		return myDriver{}.connect(ctx, c)
	}
	s, err := login(user, "initial-ed-pw-1")
	if err != nil {
		t.Fatalf("log in with ed25519: %v", err)
	}
	if err := s.setOwnPassword(ctx, "new-ed-pw-2"); err != nil {
		t.Fatal(err)
	}
	s.close()
	m, err := login(srv.User, srv.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if err := m.createClone(ctx, user, clone, "clone-ed-pw-3"); err != nil {
		t.Fatal(err)
	}
	if err := m.setPassword(ctx, user, "set-ed-pw-4"); err != nil {
		t.Fatal(err)
	}
	for u, pw := range map[string]string{clone: "clone-ed-pw-3", user: "set-ed-pw-4"} {
		s, err := login(u, pw)
		if err != nil {
			t.Errorf("log in as %s with the password rotor set: %v", u, err)
			continue
		}
		s.close()
	}
	var plugin string
	if err := admin.QueryRowContext(ctx, "SELECT plugin FROM mysql.user WHERE User = ? AND Host = '127.0.0.1'", user).Scan(&plugin); err != nil || plugin != "ed25519" {
		t.Errorf("the user's plugin is %q (%v), want ed25519 still", plugin, err)
	}
}
