package database

import (
	"context"
	"crypto/tls"
	"time"
)

// conn is where and as whom to connect.
type conn struct {
	Host     string
	Port     int
	User     string
	Password string
	DBName   string
	TLS      *tls.Config // nil: no TLS (option tls=false)
}

// driver is one database engine's SQL.
type driver interface {
	defaultPort() int
	// defaultDB is the database to connect to when the secret names none.
	defaultDB() string
	// connect logs in; it fails when the server refuses the credential.
	connect(ctx context.Context, c conn) (session, error)
}

// session is one logged-in connection.
type session interface {
	// ping runs a trivial query.
	ping(ctx context.Context) error
	// setOwnPassword changes the logged-in user's password.
	setOwnPassword(ctx context.Context, password string) error
	// userExists reports whether user exists (as the master sees it).
	userExists(ctx context.Context, user string) (bool, error)
	// createClone creates the user to, with password, where from is.
	createClone(ctx context.Context, from, to, password string) error
	// syncGrants gives to every privilege from has; running it again
	// changes nothing.
	syncGrants(ctx context.Context, from, to string) error
	// setPassword sets user's password (as the master).
	setPassword(ctx context.Context, user, password string) error
	// disable makes user's password stop working (as the master).
	disable(ctx context.Context, user string) error
	close()
}

func timeUntil(t time.Time) time.Duration { return time.Until(t) }
