package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// A value written during a rotation abandons it: the pending credential and
// the one that leaves AWSPREVIOUS are revoked, and resuming can no longer
// overwrite the value written.
func TestPutValueDuringRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	for i := 0; i < 2; i++ {
		if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	cur := d.VersionWithStage(store.Current)
	token := engine.NewToken()
	if _, err := f.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: f.arn, Token: token}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Step(ctx, engine.Event{Step: engine.StepCreate, SecretID: f.arn, Token: token}); err != nil {
		t.Fatal(err)
	}
	manual := f.tg.Issue("by hand")
	out, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: manual})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = f.st.DescribeSecret(ctx, f.arn)
	if d.VersionWithStage(store.Current) != out.VersionID || d.VersionWithStage(store.Previous) != cur || d.VersionWithStage(store.Pending) != "" {
		t.Errorf("labels after the put: %v; want the new version current, %s previous, no AWSPENDING", d.VersionIDsToStages, cur)
	}
	if len(d.RevokeMarked()) != 0 {
		t.Errorf("revocations still due after the put: %v", d.RevokeMarked())
	}
	curVal, _ := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: f.arn, VersionID: cur})
	live, _ := f.tg.Live(ctx)
	want := map[string]bool{rotatortest.CredID(manual): true, rotatortest.CredID(curVal.Value): true}
	if len(live) != 2 || !want[live[0]] || !want[live[1]] {
		t.Errorf("live credentials %v after the put, want exactly the new value's and the previous one's %v", live, want)
	}
	// Resuming is impossible now: the next rotation starts afresh.
	res, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn})
	if err != nil || res.Resumed || res.Previous != out.VersionID {
		t.Errorf("the rotation after the put = %+v, %v; want a fresh one after the written value", res, err)
	}
}

// A write that does not make a new AWSCURRENT changes no label and revokes
// nothing.
func TestPutValueStagedElsewhere(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.tg.Live(ctx)
	v := f.tg.Issue("staged")
	if _, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: v, VersionStages: []string{"STAGED"}}); err != nil {
		t.Fatal(err)
	}
	after, _ := f.tg.Live(ctx)
	if len(after) != len(before)+1 {
		t.Errorf("live credentials %v → %v: a staged write revoked something", before, after)
	}
}

func TestTestCurrent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if err := f.eng.TestCurrent(ctx, f.arn, nil); err != nil {
		t.Fatalf("the current credential fails its test: %v", err)
	}
	bad := `{"id":"cred-9999","secret":"00"}`
	if _, err := f.st.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: secret.New(bad)}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.TestCurrent(ctx, f.arn, nil); err == nil || !strings.Contains(err.Error(), "testSecret of the current value") {
		t.Errorf("TestCurrent of a credential the service rejects = %v", err)
	}
}

// Retiring a secret revokes every credential a label still holds, the
// pending one of a rotation in progress included.
func TestRetire(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	for i := 0; i < 2; i++ {
		if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
			t.Fatal(err)
		}
	}
	token := engine.NewToken()
	if _, err := f.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: f.arn, Token: token}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Step(ctx, engine.Event{Step: engine.StepCreate, SecretID: f.arn, Token: token}); err != nil {
		t.Fatal(err)
	}
	revoked, err := f.eng.Retire(ctx, f.arn)
	if err != nil {
		t.Fatal(err)
	}
	if live, _ := f.tg.Live(ctx); len(live) != 0 || len(revoked) != 3 {
		t.Errorf("after Retire: live %v, revoked %v; want nothing live and three revoked (current, previous, pending)", live, revoked)
	}
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	if revoked[len(revoked)-1] != d.VersionWithStage(store.Current) {
		t.Errorf("the current credential was not revoked last: %v", revoked)
	}
}

// A credential two versions share is not revoked while either still holds
// an AWS label: a value put back (a rollback) or put twice.
func TestSharedCredentialNotRevoked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	// Roll back: put the AWSPREVIOUS value again as AWSCURRENT. The version
	// that leaves AWSPREVIOUS holds the very credential now current.
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	prev, _ := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: f.arn, VersionID: d.VersionWithStage(store.Previous)})
	if _, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: prev.Value}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.TestCurrent(ctx, f.arn, nil); err != nil {
		t.Fatalf("after a rollback the current credential was revoked: %v", err)
	}
	// Put the same value twice, then rotate: the credential stays current's
	// twin until both versions have left the labels.
	same := f.tg.Issue("twice")
	for i := 0; i < 2; i++ {
		if _, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: same}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	d, _ = f.st.DescribeSecret(ctx, f.arn)
	pv, _ := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: f.arn, VersionID: d.VersionWithStage(store.Previous)})
	if !pv.Value.Equal(same) {
		t.Fatalf("AWSPREVIOUS does not hold the value put twice")
	}
	live, _ := f.tg.Live(ctx)
	found := false
	for _, id := range live {
		found = found || id == rotatortest.CredID(same)
	}
	if !found {
		t.Errorf("the AWSPREVIOUS credential (put twice) was revoked: live %v", live)
	}
}

// AWSPENDING left on AWSCURRENT by a rotation whose date was recorded is
// cleared, and a fresh rotation runs: a rotate never reports success
// without a new credential.
func TestPendingOnCurrentStartsFresh(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	res, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdateSecretVersionStage(ctx, store.UpdateSecretVersionStageInput{SecretID: f.arn, VersionStage: store.Pending, MoveToVersionID: res.Token}); err != nil {
		t.Fatal(err)
	}
	again, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn})
	if err != nil {
		t.Fatal(err)
	}
	if again.Resumed || again.Token == res.Token || again.Previous != res.Token {
		t.Errorf("rotate with AWSPENDING on a recorded AWSCURRENT = %+v; want a fresh rotation after %s", again, res.Token)
	}
}

// A value written while the kind cannot be built (its settings missing
// from this shell) still leaves the displaced credential on record.
func TestPutValueMarksWithoutKind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	leaving := d.VersionWithStage(store.Previous)
	blind := engine.New(engine.Config{Store: f.st, Kinds: rotator.NewRegistry()})
	if _, err := blind.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: f.tg.Issue("blind")}); err != nil {
		t.Fatal(err)
	}
	st, err := f.eng.Status(ctx, f.arn)
	if err != nil || len(st.RevokeDue) != 1 || st.RevokeDue[0] != leaving {
		t.Fatalf("status after a put the kind could not follow: due %v (%v); want %s", st.RevokeDue, err, leaving)
	}
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.eng.Status(ctx, f.arn); len(st.RevokeDue) != 0 {
		t.Errorf("the next rotation did not settle the revocation: %v", st.RevokeDue)
	}
}

// Writes of a secret of no kind mark nothing for revocation, so its old
// versions lose their labels and are pruned as in Secrets Manager, and no
// write reports a revocation it cannot do.
func TestPutValueOfNoKind(t *testing.T) {
	ctx := context.Background()
	st := local.NewMemory(local.Config{})
	v0 := secret.New("v0")
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "plain/config", Value: &v0, ClientRequestToken: engine.NewToken()})
	if err != nil {
		t.Fatal(err)
	}
	var notices []engine.Notice
	eng := engine.New(engine.Config{Store: st, Notify: func(_ context.Context, n engine.Notice) { notices = append(notices, n) }})
	for i := range store.MaxVersions + 5 {
		if _, err := eng.PutValue(ctx, store.PutSecretValueInput{SecretID: ref.ARN, ClientRequestToken: engine.NewToken(), Value: secret.New(fmt.Sprint("v", i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := st.DescribeSecret(ctx, ref.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.RevokeMarked(); len(m) != 0 || len(d.VersionIDsToStages) != 2 {
		t.Fatalf("labels after %d writes: %v", store.MaxVersions+5, d.VersionIDsToStages)
	}
	versions, err := st.ListSecretVersionIDs(ctx, store.ListSecretVersionIDsInput{SecretID: ref.ARN, IncludeDeprecated: true})
	if err != nil || len(versions.Versions) != store.MaxVersions {
		t.Fatalf("%d versions kept (%v), want %d", len(versions.Versions), err, store.MaxVersions)
	}
	if len(notices) != 0 {
		t.Fatalf("writes of a plain secret notified: %+v", notices[0])
	}
	// A mark such a secret carries from elsewhere (an earlier rotor, a
	// kind since removed) is reported as one nothing can settle.
	prev := d.VersionWithStage(store.Previous)
	if _, err := st.UpdateSecretVersionStage(ctx, store.UpdateSecretVersionStageInput{SecretID: ref.ARN, VersionStage: store.RevokeLabelFor(prev), MoveToVersionID: prev}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.PutValue(ctx, store.PutSecretValueInput{SecretID: ref.ARN, ClientRequestToken: engine.NewToken(), Value: secret.New("last")}); err != nil {
		t.Fatal(err)
	}
	status, err := eng.Status(ctx, ref.ARN)
	if err != nil || len(status.RevokeDue) != 1 || status.RevokeDue[0] != prev {
		t.Fatalf("status: %+v %v", status, err)
	}
	if all := strings.Join(status.Warnings, "\n"); !strings.Contains(all, "no kind, so nothing can revoke it") || strings.Contains(all, "the next rotation retries it") {
		t.Fatalf("warnings on a mark of a secret of no kind:\n%s", all)
	}
}

// A write the store refuses leaves no revocation mark behind, and a kind
// that revokes nothing never keeps one: status stays quiet.
func TestFailedPutLeavesNoMark(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: "too-short", Value: f.tg.Issue("x")}); err == nil {
		t.Fatal("a put with an invalid token succeeded")
	}
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	if m := d.RevokeMarked(); len(m) != 0 {
		t.Errorf("a refused put left revocation marks on %v", m)
	}
}

// The same credential in other bytes (a value put back reformatted) is
// known through the kind's CredentialID, and not revoked while it serves.
func TestSameCredentialOtherBytesNotRevoked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, kindTag)
	if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: f.arn}); err != nil {
		t.Fatal(err)
	}
	d, _ := f.st.DescribeSecret(ctx, f.arn)
	prev, _ := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: f.arn, VersionID: d.VersionWithStage(store.Previous)})
	var m map[string]string
	if err := json.Unmarshal([]byte(prev.Value.Text()), &m); err != nil {
		t.Fatal(err)
	}
	m["note"] = "put back by hand"
	b, _ := json.MarshalIndent(m, "", "  ")
	if _, err := f.eng.PutValue(ctx, store.PutSecretValueInput{SecretID: f.arn, ClientRequestToken: engine.NewToken(), Value: secret.New(string(b))}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.TestCurrent(ctx, f.arn, nil); err != nil {
		t.Fatalf("the credential put back in other bytes was revoked: %v", err)
	}
}

// Concurrent writes of one secret all succeed, one after another, and leave
// no credential orphaned: only AWSCURRENT's and AWSPREVIOUS's stay live.
func TestPutValueConcurrent(t *testing.T) {
	for name, newStore := range map[string]func(*testing.T) store.Store{"memory": memStore, "file": fileStore} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			tg := rotatortest.NewTarget()
			st := newStore(t)
			eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(rotatortest.TargetKind(tg, false))})
			v := tg.Issue("initial")
			ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "app/x", Value: &v, Tags: []store.Tag{kindTag}})
			if err != nil {
				t.Fatal(err)
			}
			const writers, each = 16, 4
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for i := range writers {
				id := ref.ARN
				if i%2 == 1 {
					id = ref.Name // by name or by ARN: the same secret
				}
				wg.Go(func() {
					for j := range each {
						in := store.PutSecretValueInput{SecretID: id, ClientRequestToken: engine.NewToken(), Value: tg.Issue(fmt.Sprintf("w%d-%d", i, j))}
						if _, err := eng.PutValue(ctx, in); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("PutValue: %v", err)
			}
			d, err := st.DescribeSecret(ctx, ref.ARN)
			if err != nil {
				t.Fatal(err)
			}
			if m := d.RevokeMarked(); len(m) != 0 {
				t.Errorf("revocations still due: %v", m)
			}
			live, _ := tg.Live(ctx)
			want := map[string]bool{}
			for _, l := range []string{store.Current, store.Previous} {
				val, err := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: ref.ARN, VersionStage: l})
				if err != nil {
					t.Fatal(err)
				}
				want[rotatortest.CredID(val.Value)] = true
			}
			if len(live) != 2 || !want[live[0]] || !want[live[1]] {
				t.Errorf("live credentials %v, want exactly AWSCURRENT's and AWSPREVIOUS's %v", live, want)
			}
		})
	}
}
