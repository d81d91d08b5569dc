package iamkey_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/secret"
)

func TestRotateBothAuthModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		user string
		opts rotator.Options
	}{
		{"role", "alice", rotator.Options{}},
		{"self", "bob", rotator.Options{"auth": "self"}},
		{"self with IAM path", "carol", rotator.Options{"auth": "self"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 5*time.Second)
			r := f.rotator(tc.opts)
			st := &labels{cur: f.seed(tc.user, map[string]string{"region": "eu-west-1"})}
			name := "/access-key/" + tc.user
			for i := 0; i < 3; i++ {
				before := st.cur
				f.rotate(r, name, st, tc.opts)
				if field(st.cur, "access_key_id") == field(before, "access_key_id") {
					t.Fatalf("rotation %d kept the same key", i+1)
				}
				if got := field(st.cur, "region"); got != "eu-west-1" {
					t.Fatalf("rotation %d lost the field region: %q", i+1, got)
				}
				if field(st.cur, "user_name") != "" {
					t.Fatalf("rotation %d added a user_name field the secret did not have", i+1)
				}
				f.wantKeys(tc.user, st.cur, st.prev)
			}
			for _, k := range f.srv.Keys(tc.user) {
				if k.Status != "Active" {
					t.Errorf("key %s is %s; current and previous must stay active", k.ID, k.Status)
				}
			}
		})
	}
}

func TestSelfModeCallsIAMOnlyWithTheUsersKey(t *testing.T) {
	f := newFixture(t, 0)
	deps := f.deps()
	deps.AWS.Credentials = nil // rotor has no credentials of its own
	opts := rotator.Options{"auth": "self"}
	st := &labels{cur: f.seed("bob", nil)}
	r, err := iamkey.New(deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		f.rotate(r, "/access-key/bob", st, opts)
	}
	f.wantKeys("bob", st.cur, st.prev)

	// alice has no self-rotation policy: the error names what to grant.
	_, err = r.Create(context.Background(), f.request("/access-key/alice", f.seed("alice", nil), secret.Value{}, secret.Value{}, opts))
	f.note(err)
	if err == nil || !errors.Is(err, rotator.ErrPermanent) ||
		!strings.Contains(err.Error(), "iam:ListAccessKeys") || !strings.Contains(err.Error(), "${aws:username}") {
		t.Fatalf("Create for a user without the policy: %v; want a permanent error naming iam:ListAccessKeys and the ${aws:username} policy", err)
	}
	// bob's key cannot manage alice.
	_, err = r.Create(context.Background(), f.request("/x", f.value(field(st.cur, "access_key_id"), field(st.cur, "secret_access_key"),
		map[string]string{"user_name": "alice"}), secret.Value{}, secret.Value{}, opts))
	f.note(err)
	if !errors.Is(err, rotator.ErrPermanent) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Create for another user with bob's key: %v, want AccessDenied", err)
	}
}

// A process dies after CreateAccessKey and before the value is stored: the
// key exists in IAM but in no version. The next Create for the same token
// must delete it and never touch the current key.
func TestCreateCleansUpOrphanAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name, user string
		opts       rotator.Options
		lost       bool // the response of CreateAccessKey is lost instead of the value
	}{
		{"role, crash before storing", "alice", rotator.Options{}, false},
		{"role, response lost", "alice", rotator.Options{}, true},
		{"self, crash before storing", "bob", rotator.Options{"auth": "self"}, false},
		{"self, response lost", "bob", rotator.Options{"auth": "self"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, 0)
			r := f.rotator(tc.opts)
			prev := f.seed(tc.user, nil)
			cur := f.seed(tc.user, nil)
			req := f.request("/access-key/"+tc.user, cur, prev, secret.Value{}, tc.opts)

			if tc.lost {
				f.srv.FailNextAfter("CreateAccessKey", "ServiceFailure")
				_, err := r.Create(ctx, req)
				if f.note(err) == nil {
					t.Fatal("Create succeeded although the response was lost")
				}
			} else {
				lost, err := r.Create(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				f.remember(lost) // the crash: never stored
			}
			if n := len(f.srv.Keys(tc.user)); n != 2 {
				t.Fatalf("after the failed attempt the user has %d keys, want current + orphan", n)
			}

			pend, err := r.Create(ctx, req)
			if f.note(err) != nil {
				t.Fatalf("retry of Create: %v", err)
			}
			f.remember(pend)
			f.wantKeys(tc.user, cur, pend)
			if err := f.note(r.Test(ctx, f.request("/access-key/"+tc.user, cur, prev, pend, tc.opts))); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(f.logs.String(), "orphan") {
				t.Errorf("the orphan's deletion was not logged")
			}
		})
	}
}

func TestCreateNeverDeletesTheCurrentKey(t *testing.T) {
	ctx := context.Background()
	t.Run("previous holds the current key too", func(t *testing.T) {
		f := newFixture(t, 0)
		cur := f.seed("alice", nil)
		pend, err := f.rotator(nil).Create(ctx, f.request("/access-key/alice", cur, cur, secret.Value{}, nil))
		if f.note(err) != nil {
			t.Fatal(err)
		}
		f.remember(pend)
		f.wantKeys("alice", cur, pend)
	})
	t.Run("deleting the previous key is refused", func(t *testing.T) {
		f := newFixture(t, 0)
		prev, cur := f.seed("alice", nil), f.seed("alice", nil)
		f.srv.FailNext("DeleteAccessKey", "AccessDenied")
		_, err := f.rotator(nil).Create(ctx, f.request("/access-key/alice", cur, prev, secret.Value{}, nil))
		f.note(err)
		if !errors.Is(err, rotator.ErrPermanent) || !strings.Contains(err.Error(), "iam:DeleteAccessKey") {
			t.Fatalf("err = %v, want a permanent error naming iam:DeleteAccessKey", err)
		}
		if f.srv.Calls("CreateAccessKey") != 0 {
			t.Fatal("CreateAccessKey was called although no room was made")
		}
		f.wantKeys("alice", cur, prev)
	})
	t.Run("a key appears between listing and creating", func(t *testing.T) {
		f := newFixture(t, 0)
		prev, cur := f.seed("alice", nil), f.seed("alice", nil)
		f.srv.FailNext("CreateAccessKey", "LimitExceeded")
		_, err := f.rotator(nil).Create(ctx, f.request("/access-key/alice", cur, prev, secret.Value{}, nil))
		f.note(err)
		if err == nil || !strings.Contains(err.Error(), field(cur, "access_key_id")) || !strings.Contains(err.Error(), "delete-access-key") {
			t.Fatalf("err = %v, want the LimitExceeded explanation listing the user's key ids", err)
		}
		f.wantKeys("alice", cur)
	})
	t.Run("current key deleted outside rotor", func(t *testing.T) {
		f := newFixture(t, 0)
		ghost := f.value("AKIAGHOSTGHOSTGHOST0", "gone", nil)
		pend, err := f.rotator(nil).Create(ctx, f.request("/access-key/alice", ghost, secret.Value{}, secret.Value{}, nil))
		if f.note(err) != nil {
			t.Fatal(err)
		}
		f.remember(pend)
		f.wantKeys("alice", pend)
		if !strings.Contains(f.logs.String(), "no longer exists") {
			t.Error("the missing current key was not reported")
		}
	})
}

func TestCreateErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 0)
	for _, tc := range []struct {
		name    string
		opts    rotator.Options
		secret  string
		cur     secret.Value
		want    []string
		mustNot string
	}{
		{"unknown user", nil, "/access-key/nobody", secret.Value{}, []string{`"nobody" does not exist`, "rotor:user"}, ""},
		{"value not JSON", nil, "/access-key/alice", secret.New("hunter2-plaintext"), []string{"not a JSON object"}, "hunter2"},
		{"self without a key", rotator.Options{"auth": "self"}, "/access-key/bob", secret.Value{}, []string{"auth=self", "auth=role"}, ""},
		{"self with a deleted key", rotator.Options{"auth": "self"}, "/access-key/bob",
			f.value("AKIADELETEDDELETED00", "s3cr3t-deleted", nil), []string{"InvalidClientTokenId", "put a working key"}, "s3cr3t-deleted"},
		{"no user derivable", rotator.Options{"user-pattern": `^users/(\w+)$`}, "/access-key/alice", secret.Value{}, []string{"rotor:user-pattern"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.rotator(tc.opts).Create(ctx, f.request(tc.secret, tc.cur, secret.Value{}, secret.Value{}, tc.opts))
			f.note(err)
			if err == nil || !errors.Is(err, rotator.ErrPermanent) {
				t.Fatalf("err = %v, want a permanent error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.mustNot != "" && strings.Contains(err.Error(), tc.mustNot) {
				t.Errorf("error reveals the secret value")
			}
		})
	}
}

func TestUserResolutionOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 0)
	for _, tc := range []struct {
		name, secret, user string
		field              string
		opts               rotator.Options
	}{
		{"field wins", "/access-key/alice", "carol", "carol", rotator.Options{"user": "alice"}},
		{"option over name", "/access-key/alice", "carol", "", rotator.Options{"user": "carol"}},
		{"last path segment", "/access-key/carol", "carol", "", nil},
		{"seed-style name with a suffix", "/access-key/carol-823234", "carol", "", rotator.Options{"user-pattern": `([^/]+)-\d+$`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra map[string]string
			if tc.field != "" {
				extra = map[string]string{"user_name": tc.field}
			}
			cur := f.seed(tc.user, extra)
			pend, err := f.rotator(tc.opts).Create(ctx, f.request(tc.secret, cur, secret.Value{}, secret.Value{}, tc.opts))
			if f.note(err) != nil {
				t.Fatal(err)
			}
			f.remember(pend)
			if field(pend, "user_name") != tc.field {
				t.Errorf("user_name field not kept as it was")
			}
			f.wantKeys(tc.user, cur, pend)
			// Clean up for the next case: carol is reused.
			r := f.rotator(tc.opts)
			for _, v := range []secret.Value{cur, pend} {
				if err := f.note(r.Revoke(ctx, f.request(tc.secret, secret.Value{}, secret.Value{}, v, tc.opts))); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// With user-from=key the user is the owner of the current key, as STS names
// it: a secret whose name and value say nothing of the user rotates (the
// Secrets of the IAM key rotation tool hold only the key pair).
func TestUserFromKey(t *testing.T) {
	f := newFixture(t, 0)
	deps := f.deps()
	deps.AWS.Credentials = nil
	opts := rotator.Options{"auth": "self", "user-from": "key"}
	st := &labels{cur: f.seed("bob", nil)}
	r, err := iamkey.New(deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		f.rotate(r, "aws-iam-user-credentials", st, opts)
	}
	f.wantKeys("bob", st.cur, st.prev)
	if _, err := iamkey.New(deps, rotator.Options{"auth": "self", "user-from": "tag"}); !errors.Is(err, rotator.ErrPermanent) {
		t.Fatalf("user-from=tag: %v, want a permanent error", err)
	}
	f.checkNoLeak()
}
