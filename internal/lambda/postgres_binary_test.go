package lambda

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rotorhq/rotor/internal/dbtest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// dbSecret is a value in AWS's database format.
type dbSecret struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname"`
	MasterARN string `json:"masterarn,omitempty"`
}

// TestBuiltBinaryRotatesPostgres runs the real bootstrap against a real
// PostgreSQL server, as a rotation function set up by RDS tooling would be:
// one secret rotated single-user, one alternating-users whose masterarn
// secret the function reads through the Secrets Manager API. Each
// rotation's AWSCURRENT logs in, the alternating secret's AWSPREVIOUS too,
// and no password reaches the function's output.
func TestBuiltBinaryRotatesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rotor")
	}
	srv := dbtest.Postgres(t)
	admin := srv.PgAdmin(t)
	ctx := context.Background()
	single, alt := dbtest.Name("app"), dbtest.Name("svc")
	const pw1, pw2 = "single-initial-Pw-1", "alternating-initial-Pw-2"
	for user, pw := range map[string]string{single: pw1, alt: pw2} {
		var stmt string
		if err := admin.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", user, pw).Scan(&stmt); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}

	f := startFunction(t, buildBootstrap(t), "ROTOR_CA_FILE="+srv.CAFile)
	put := func(name string, v dbSecret, tags ...store.Tag) string {
		b, _ := json.Marshal(v)
		val := secret.New(string(b))
		ref, err := f.st.CreateSecret(ctx, store.CreateSecretInput{Name: name, Value: &val, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return ref.ARN
	}
	base := dbSecret{Engine: "postgres", Host: srv.Host, Port: srv.Port, DBName: srv.Database}
	master := base
	master.Username, master.Password = srv.User, srv.Password
	masterARN := put("rds/master", master)
	s1 := base
	s1.Username, s1.Password = single, pw1
	singleARN := put("rds/app", s1, store.Tag{Key: rotator.TagKind, Value: "postgres"})
	s2 := base
	s2.Username, s2.Password, s2.MasterARN = alt, pw2, masterARN
	altARN := put("rds/svc", s2, store.Tag{Key: rotator.TagKind, Value: "postgres"},
		store.Tag{Key: rotator.TagPrefix + "strategy", Value: "alternating-users"})

	read := func(arn, stage string) dbSecret {
		t.Helper()
		out, err := f.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: arn, VersionStage: stage})
		if err != nil {
			t.Fatal(err)
		}
		var v dbSecret
		if err := json.Unmarshal(out.Value.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	logsIn := func(v dbSecret) bool {
		c, err := srv.PgConnect(ctx, v.Username, v.Password)
		if err != nil {
			return false
		}
		c.Close(ctx)
		return true
	}
	secrets := []string{pw1, pw2, srv.Password, testSecret}
	rules := store.RotationRules{ScheduleExpression: "rate(30 days)"}

	f.rotateOnce(t, singleARN, "5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d01", rules)
	cur := read(singleARN, store.Current)
	secrets = append(secrets, cur.Password)
	if cur.Username != single || !logsIn(cur) || logsIn(s1) {
		t.Errorf("single-user: AWSCURRENT (%s) does not log in, or the old password still does", cur.Username)
	}

	for i, tok := range []string{"5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d02", "5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d03"} {
		f.rotateOnce(t, altARN, tok, rules)
		cur, prev := read(altARN, store.Current), read(altARN, store.Previous)
		secrets = append(secrets, cur.Password)
		want := alt + "_clone"
		if i == 1 {
			want = alt
		}
		if cur.Username != want || cur.MasterARN != masterARN || !logsIn(cur) || !logsIn(prev) {
			t.Errorf("alternating rotation %d: AWSCURRENT is %s (want %s); it or AWSPREVIOUS (%s) does not log in", i+1, cur.Username, want, prev.Username)
		}
	}
	if logsIn(s2) {
		t.Error("alternating: the initial password still works after it left AWSPREVIOUS")
	}
	checkNoValues(t, "the function's stdout", f.stdout.String(), secrets...)
	checkNoValues(t, "the function's stderr", f.stderr.String(), secrets...)
}
