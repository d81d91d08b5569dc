package database

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
)

func TestParseValue(t *testing.T) {
	v, err := parseValue(secret.New(`{"engine":"postgres","host":"db","port":"6432","username":"app","password":"p","dbname":"d","masterarn":"m","extra":{"a":[1]}}`))
	if err != nil || v.Port != 6432 || v.Username != "app" || v.Master != "m" || v.DBName != "d" {
		t.Fatalf("parse: %+v, %v", v, err)
	}
	out, err := v.with("app_clone", `q"uote`)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m["username"] != "app_clone" || m["password"] != `q"uote` || m["port"] != "6432" || m["extra"] == nil {
		t.Errorf("with: %s, %v: want the user and password replaced and every other field kept as it was", out.Text(), err)
	}
	for _, bad := range []string{`not json sekret`, `{"port":70000}`, `{"port":true}`, `{"username":5}`} {
		_, err := parseValue(secret.New(bad))
		if err == nil {
			t.Errorf("%s parsed", bad)
		} else if strings.Contains(err.Error(), "sekret") {
			t.Errorf("the error shows the value: %v", err)
		}
	}
}

func TestCreate(t *testing.T) {
	single, _ := newRotator(pgDriver{}, Deps{}, rotator.Options{password.OptLength: "20"})
	alt, _ := newRotator(pgDriver{}, Deps{}, rotator.Options{OptStrategy: AlternatingUsers})
	ctx := context.Background()
	cur := secret.New(`{"engine":"postgres","host":"db","port":5432,"username":"app","password":"old","masterarn":"m"}`)
	for _, tt := range []struct {
		r    *Rotator
		cur  secret.Value
		user string
	}{
		{single, cur, "app"},
		{alt, cur, "app_clone"},
		{alt, secret.New(`{"host":"db","username":"app_clone","password":"x","masterarn":"m"}`), "app"},
	} {
		v, err := tt.r.Create(ctx, rotator.Request{Current: tt.cur})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := parseValue(v)
		if p.Username != tt.user || p.Password == "" || p.Password == "old" || p.Master != "m" {
			t.Errorf("Create from %s: user %s, want %s, and a new password", tt.cur.Text(), p.Username, tt.user)
		}
		if tt.r == single && len(p.Password) != 20 {
			t.Errorf("password length %d, want the option's 20", len(p.Password))
		}
	}
	_, err := alt.Create(ctx, rotator.Request{Current: secret.New(`{"host":"db","username":"app","password":"x"}`)})
	if !errors.Is(err, rotator.ErrPermanent) || !strings.Contains(err.Error(), "masterarn") {
		t.Errorf("alternating-users without masterarn: %v, want a permanent error naming the field", err)
	}
	_, err = single.Create(ctx, rotator.Request{Current: secret.New(`{"username":"app","password":"x"}`)})
	if !errors.Is(err, rotator.ErrPermanent) {
		t.Errorf("a value without host: %v, want a permanent error", err)
	}
	if _, err := newRotator(pgDriver{}, Deps{}, rotator.Options{OptTLS: "false", OptCAFile: "/ca.pem"}); err == nil {
		t.Error("tls=false with ca-file accepted")
	}
}
