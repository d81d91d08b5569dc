package database_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/database"
)

// A revocation that cannot reach the database fails, so that it stays due
// and is retried; only a database that refuses the password shows it
// revoked.
func TestRevokeUnreachableIsNotRevoked(t *testing.T) { eachEngine(t, testRevokeUnreachable) }

func testRevokeUnreachable(t *testing.T, mk newWorld) {
	w, initial := mk(t, database.AlternatingUsers, "initial-Password-5")
	ctx := context.Background()
	r, err := w.kind.New(rotator.Merge(w.opts, rotator.Options{database.OptTimeout: "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	// Refused: a password the database does not hold.
	wrong := dbValue(w.engine, w.srv, w.user, "not-the-password-5", true)
	if err := r.Revoke(ctx, rotator.Request{Current: initial, Pending: wrong}); err != nil {
		t.Errorf("revoking a password the database refuses: %v, want nil (revoked already)", err)
	}
	// Unreachable: a port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := *w.srv
	gone.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, pw := fields(initial)
	unreachable := dbValue(w.engine, &gone, w.user, pw, true)
	err = r.Revoke(ctx, rotator.Request{Current: initial, Pending: unreachable})
	if err == nil {
		t.Fatal("a revocation that could not reach the database succeeded: the credential would stay valid, unrevoked")
	}
	if strings.Contains(err.Error(), pw) {
		t.Error("the error holds the password")
	}
	if !w.works(ctx, w.user, pw) {
		t.Error("the password stopped working")
	}
}

// The single-user kind too: an unreachable database is no proof.
func TestSingleUserRevokeUnreachable(t *testing.T) {
	srv := dbtest.Postgres(t)
	r, err := database.Postgres(database.Deps{}).New(rotator.Options{database.OptCAFile: srv.CAFile, database.OptTimeout: "2s"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := *srv
	gone.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	cur := dbValue("postgres", &gone, "someone", "current-pw-6", false)
	pend := dbValue("postgres", &gone, "someone", "pending-pw-6", false)
	if err := r.Revoke(context.Background(), rotator.Request{Current: cur, Pending: pend}); err == nil {
		t.Fatal("a revocation that could not reach the database succeeded")
	}
}
