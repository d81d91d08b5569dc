package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/rotator"
)

// PostgresName is the postgres kind's name (tag rotor:kind=postgres).
const PostgresName = "postgres"

// Postgres returns the postgres kind.
func Postgres(deps Deps) rotator.Kind {
	return kind(PostgresName, "PostgreSQL user's password in AWS's database secret format {engine, host, port, username, password, dbname[, masterarn]}; single-user or alternating-users", pgDriver{}, deps)
}

// pgDriver speaks PostgreSQL through pgx. Statements that need an
// identifier or a literal are built by the server (format with %I and %L)
// from bound parameters, then run as the server built them.
type pgDriver struct{}

func (pgDriver) defaultPort() int  { return 5432 }
func (pgDriver) defaultDB() string { return "postgres" }

func (pgDriver) connect(ctx context.Context, c conn) (session, error) {
	// ParseConfig("") starts from the defaults (it reads PG* variables
	// and ~/.pgpass, whose values everything below replaces).
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL client configuration: %w", err)
	}
	cfg.Host, cfg.Port, cfg.Database = c.Host, uint16(c.Port), c.DBName
	cfg.User, cfg.Password = c.User, c.Password
	cfg.TLSConfig = c.TLS
	cfg.Fallbacks = nil
	cfg.RuntimeParams = map[string]string{"application_name": "rotor"}
	pc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, pgError(err)
	}
	return &pgSession{c: pc}, nil
}

// pgError keeps the server's message and code, and the connection failure
// without the configuration it was given.
func pgError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		e := fmt.Errorf("PostgreSQL: %s (SQLSTATE %s)", pe.Message, pe.Code)
		if strings.HasPrefix(pe.Code, "28") { // invalid authorization
			return refused{e}
		}
		return e
	}
	return fmt.Errorf("PostgreSQL: %w", err)
}

type pgSession struct{ c *pgx.Conn }

func (s *pgSession) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.c.Close(ctx)
}

func (s *pgSession) ping(ctx context.Context) error {
	var one int
	if err := s.c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return pgError(err)
	}
	return nil
}

// exec has the server build a statement from format and args, then runs it.
func (s *pgSession) exec(ctx context.Context, format string, args []string) error {
	var stmt string
	if err := s.c.QueryRow(ctx, "SELECT format($1::text, VARIADIC $2::text[])", format, args).Scan(&stmt); err != nil {
		return pgError(err)
	}
	if _, err := s.c.Exec(ctx, stmt, pgx.QueryExecModeSimpleProtocol); err != nil {
		return pgError(err)
	}
	return nil
}

// pgPassword is what ALTER ROLE … PASSWORD is given: the password's SCRAM
// verifier where it can be computed here, else the password.
func pgPassword(pw string) string {
	if v, ok := scramVerifier(pw); ok {
		return v
	}
	return pw
}

func (s *pgSession) setOwnPassword(ctx context.Context, pw string) error {
	return s.exec(ctx, "ALTER ROLE CURRENT_USER PASSWORD %L", []string{pgPassword(pw)})
}

func (s *pgSession) userExists(ctx context.Context, user string) (bool, error) {
	var ok bool
	if err := s.c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", user).Scan(&ok); err != nil {
		return false, pgError(err)
	}
	return ok, nil
}

// createClone makes to a member of from, so that it holds from's
// privileges now and later, as AWS's alternating-users template does.
func (s *pgSession) createClone(ctx context.Context, from, to, pw string) error {
	return s.exec(ctx, "CREATE ROLE %I WITH LOGIN PASSWORD %L IN ROLE %I", []string{to, pgPassword(pw), from})
}

// syncGrants makes to a member of from again: a no-op (with a notice)
// when it is one.
func (s *pgSession) syncGrants(ctx context.Context, from, to string) error {
	return s.exec(ctx, "GRANT %I TO %I", []string{from, to})
}

func (s *pgSession) setPassword(ctx context.Context, user, pw string) error {
	return s.exec(ctx, "ALTER ROLE %I WITH LOGIN PASSWORD %L", []string{user, pgPassword(pw)})
}

func (s *pgSession) disable(ctx context.Context, user string) error {
	return s.exec(ctx, "ALTER ROLE %I PASSWORD NULL", []string{user})
}
