package ses_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/notify/internal/awstest"
	"github.com/rotorhq/rotor/internal/notify/ses"
)

func TestSend(t *testing.T) {
	srv := awstest.NewSES(nil, false, "rotor@example.com")
	defer srv.Close()
	m, err := ses.New(ses.NewClient(srv.Config(awstest.Credentials())), "rotor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.Send(context.Background(), ses.Mail{To: []string{"alice@example.org"}, Subject: "Rotated\nkey", Text: "Your key was rotated."})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Sent()
	if len(got) != 1 || got[0].MessageID != id || got[0].From != "rotor@example.com" ||
		got[0].Subject != "Rotated key" || got[0].Text != "Your key was rotated." || got[0].To[0] != "alice@example.org" {
		t.Fatalf("sent %+v", got)
	}
}

func TestSendErrors(t *testing.T) {
	srv := awstest.NewSES(nil, true, "rotor@example.com")
	defer srv.Close()
	m, _ := ses.New(ses.NewClient(srv.Config(awstest.Credentials())), "rotor@example.com")
	_, err := m.Send(context.Background(), ses.Mail{To: []string{"alice@example.org"}, Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "sandbox") {
		t.Errorf("sandbox recipient: %v, want a hint about the sandbox", err)
	}
	unverified, _ := ses.New(ses.NewClient(srv.Config(awstest.Credentials())), "other@example.net")
	if _, err := unverified.Send(context.Background(), ses.Mail{To: []string{"rotor@example.com"}, Subject: "s", Text: "t"}); err == nil || !strings.Contains(err.Error(), "MessageRejected") {
		t.Errorf("unverified sender: %v", err)
	}
	bad := awstest.Credentials()
	bad.SecretAccessKey = "bad"
	wrongKey, _ := ses.New(ses.NewClient(srv.Config(bad)), "rotor@example.com")
	if _, err := wrongKey.Send(context.Background(), ses.Mail{To: []string{"rotor@example.com"}, Subject: "s", Text: "t"}); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("bad signature: %v", err)
	}
	for _, msg := range []ses.Mail{
		{Subject: "s", Text: "t"},
		{To: []string{"not an address"}, Subject: "s", Text: "t"},
		{To: []string{"rotor@example.com"}, Text: "t"},
		{To: make([]string, ses.MaxRecipients+1), Subject: "s", Text: "t"},
	} {
		if _, err := m.Send(context.Background(), msg); err == nil {
			t.Errorf("Send(%+v) accepted", msg)
		}
	}
	if len(srv.Sent()) != 0 {
		t.Errorf("sent %+v", srv.Sent())
	}
}

func TestNew(t *testing.T) {
	if _, err := ses.New(nil, "a@example.com"); err == nil {
		t.Error("nil client accepted")
	}
	srv := awstest.NewSES(nil, false)
	defer srv.Close()
	if _, err := ses.New(ses.NewClient(srv.Config(awstest.Credentials())), "nobody"); err == nil {
		t.Error("bad sender accepted")
	}
}
