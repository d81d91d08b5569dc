package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/internal/rotator"
)

// MySQLName is the mysql kind's name (tag rotor:kind=mysql); it rotates
// MariaDB users too.
const MySQLName = "mysql"

// MySQL returns the mysql kind.
func MySQL(deps Deps) rotator.Kind {
	return kind(MySQLName, "MySQL or MariaDB user's password in AWS's database secret format {engine, host, port, username, password, dbname[, masterarn]}; single-user or alternating-users", myDriver{}, deps)
}

// myDriver speaks MySQL and MariaDB through go-sql-driver/mysql. Literals
// in statements that cannot take parameters (ALTER USER, CREATE USER) are
// quoted by the server's QUOTE() from bound parameters; identifiers in
// the grants copied to a clone are quoted as MySQL quotes them.
type myDriver struct{}

func (myDriver) defaultPort() int  { return 3306 }
func (myDriver) defaultDB() string { return "" }

func (myDriver) connect(ctx context.Context, c conn) (session, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = c.User, c.Password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.DBName
	cfg.TLS = c.TLS
	if d, ok := ctx.Deadline(); ok {
		cfg.Timeout = max(timeUntil(d), 1)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("MySQL client configuration: %w", myError(err))
	}
	db := sql.OpenDB(connector)
	cn, err := db.Conn(ctx)
	if err == nil {
		err = cn.PingContext(ctx)
	}
	if err != nil {
		if cn != nil {
			_ = cn.Close()
		}
		_ = db.Close()
		return nil, myError(err)
	}
	return &mySession{db: db, c: cn}, nil
}

// myError keeps the server's message and number.
func myError(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		e := fmt.Errorf("MySQL: %s (error %d)", me.Message, me.Number)
		if myRefusals[me.Number] {
			return refused{e}
		}
		return e
	}
	return fmt.Errorf("MySQL: %w", err)
}

type mySession struct {
	db *sql.DB
	c  *sql.Conn
}

func (s *mySession) close() {
	_ = s.c.Close()
	_ = s.db.Close()
}

func (s *mySession) ping(ctx context.Context) error {
	var one int
	if err := s.c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return myError(err)
	}
	return nil
}

// exec has the server build a statement (a SELECT CONCAT of QUOTE()d
// parameters), then runs it as text.
func (s *mySession) exec(ctx context.Context, build string, args ...any) error {
	var stmt string
	if err := s.c.QueryRowContext(ctx, build, args...).Scan(&stmt); err != nil {
		return myError(err)
	}
	if _, err := s.c.ExecContext(ctx, stmt); err != nil {
		return myError(err)
	}
	return nil
}

// setOwnPassword: MariaDB lets a user without CREATE USER change its own
// password only with SET PASSWORD; MySQL with ALTER USER CURRENT_USER().
func (s *mySession) setOwnPassword(ctx context.Context, pw string) error {
	var version string
	if err := s.c.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return myError(err)
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		var show string
		if err := s.c.QueryRowContext(ctx, "SHOW CREATE USER CURRENT_USER()").Scan(&show); err == nil && nativeAccount(show) {
			return s.exec(ctx, "SELECT CONCAT('SET PASSWORD = ', QUOTE(?))", nativeHash(pw))
		}
		return s.exec(ctx, "SELECT CONCAT('SET PASSWORD = PASSWORD(', QUOTE(?), ')')", pw)
	}
	return s.exec(ctx, "SELECT CONCAT('ALTER USER CURRENT_USER() IDENTIFIED BY ', QUOTE(?))", pw)
}

// hosts lists the host parts of the accounts named user.
func (s *mySession) hosts(ctx context.Context, user string) ([]string, error) {
	rows, err := s.c.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host", user)
	if err != nil {
		return nil, myError(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, myError(err)
		}
		out = append(out, h)
	}
	return out, myError0(rows.Err())
}

func myError0(err error) error {
	if err == nil {
		return nil
	}
	return myError(err)
}

func (s *mySession) userExists(ctx context.Context, user string) (bool, error) {
	h, err := s.hosts(ctx, user)
	return len(h) > 0, err
}

// quoteID quotes a MySQL identifier.
func quoteID(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// createClone creates to at every host from has.
func (s *mySession) createClone(ctx context.Context, from, to, pw string) error {
	hosts, err := s.hosts(ctx, from)
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return fmt.Errorf("%w: the user %s does not exist", rotator.ErrPermanent, from)
	}
	for _, h := range hosts {
		build, secret := "SELECT CONCAT('CREATE USER IF NOT EXISTS ', QUOTE(?), '@', QUOTE(?), ' IDENTIFIED BY ', QUOTE(?))", pw
		if s.native(ctx, from, h) {
			build, secret = "SELECT CONCAT('CREATE USER IF NOT EXISTS ', QUOTE(?), '@', QUOTE(?), ' IDENTIFIED BY PASSWORD ', QUOTE(?))", nativeHash(pw)
		}
		if err := s.exec(ctx, build, to, h, secret); err != nil {
			return err
		}
	}
	return nil
}

// syncGrants gives to, at each host both have, from's grants: the server's
// own SHOW GRANTS statements with the grantee replaced. GRANT is
// idempotent, and grants from received since the clone was made are
// copied too.
func (s *mySession) syncGrants(ctx context.Context, from, to string) error {
	hosts, err := s.hosts(ctx, from)
	if err != nil {
		return err
	}
	toHosts, err := s.hosts(ctx, to)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if !slices.Contains(toHosts, h) {
			continue
		}
		var show string
		if err := s.c.QueryRowContext(ctx, "SELECT CONCAT('SHOW GRANTS FOR ', QUOTE(?), '@', QUOTE(?))", from, h).Scan(&show); err != nil {
			return myError(err)
		}
		rows, err := s.c.QueryContext(ctx, show)
		if err != nil {
			return myError(err)
		}
		var grants []string
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				rows.Close()
				return myError(err)
			}
			grants = append(grants, g)
		}
		rows.Close()
		if err := myError0(rows.Err()); err != nil {
			return err
		}
		oldG, newG := quoteID(from)+"@"+quoteID(h), quoteID(to)+"@"+quoteID(h)
		for _, g := range grants {
			stmt, ok := retarget(g, oldG, newG)
			if !ok {
				continue
			}
			if _, err := s.c.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("copy a grant of %s: %w", from, myError(err))
			}
		}
	}
	return nil
}

// retarget turns one SHOW GRANTS line for oldG into the same grant for
// newG. The USAGE line (which carries the password hash) is left out:
// CREATE USER made it.
func retarget(g, oldG, newG string) (string, bool) {
	if strings.HasPrefix(g, "GRANT USAGE ON *.* TO ") || strings.HasPrefix(g, "GRANT PROXY ") {
		return "", false
	}
	for _, kw := range []string{" TO ", " FOR "} {
		if i := strings.LastIndex(g, kw+oldG); i >= 0 {
			rest := g[i+len(kw)+len(oldG):]
			if j := strings.Index(rest, " IDENTIFIED BY"); j >= 0 {
				rest = rest[:j]
			}
			return g[:i] + kw + newG + rest, true
		}
	}
	return "", false
}

func (s *mySession) forHosts(ctx context.Context, user, build string, args ...any) error {
	hosts, err := s.hosts(ctx, user)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if err := s.exec(ctx, build, append([]any{user, h}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *mySession) setPassword(ctx context.Context, user, pw string) error {
	hosts, err := s.hosts(ctx, user)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		switch {
		case s.native(ctx, user, h):
			if err := s.exec(ctx, "SELECT CONCAT('ALTER USER ', QUOTE(?), '@', QUOTE(?), ' IDENTIFIED BY PASSWORD ', QUOTE(?), ' ACCOUNT UNLOCK')", user, h, nativeHash(pw)); err != nil {
				return err
			}
		case s.mariaDB(ctx):
			// MariaDB's ALTER USER … IDENTIFIED BY would switch an
			// account of another plugin (ed25519) to the default one;
			// SET PASSWORD keeps the account's plugin.
			if err := s.exec(ctx, "SELECT CONCAT('SET PASSWORD FOR ', QUOTE(?), '@', QUOTE(?), ' = PASSWORD(', QUOTE(?), ')')", user, h, pw); err != nil {
				return err
			}
			if err := s.exec(ctx, "SELECT CONCAT('ALTER USER ', QUOTE(?), '@', QUOTE(?), ' ACCOUNT UNLOCK')", user, h); err != nil {
				return err
			}
		default:
			if err := s.exec(ctx, "SELECT CONCAT('ALTER USER ', QUOTE(?), '@', QUOTE(?), ' IDENTIFIED BY ', QUOTE(?), ' ACCOUNT UNLOCK')", user, h, pw); err != nil {
				return err
			}
		}
	}
	return nil
}

// disable locks the accounts: the password stops working until setPassword
// gives them a new one.
func (s *mySession) disable(ctx context.Context, user string) error {
	return s.forHosts(ctx, user, "SELECT CONCAT('ALTER USER ', QUOTE(?), '@', QUOTE(?), ' ACCOUNT LOCK')")
}
