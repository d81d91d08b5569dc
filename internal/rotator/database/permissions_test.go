package database

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator"
)

func TestPermissions(t *testing.T) {
	home, _ := rotator.ParseARN("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds/app-AbCdEf")
	ask := func(opts rotator.Options, secrets ...rotator.ARN) ([]rotator.Statement, error) {
		return permissions(rotator.PermissionRequest{Options: opts, Secrets: secrets})
	}
	if st, err := ask(rotator.Options{}, home); err != nil || st != nil {
		t.Errorf("single-user: %v, %v; want nothing", st, err)
	}
	st, err := ask(rotator.Options{OptStrategy: AlternatingUsers, OptMasterSecret: "rds/master"}, home)
	want := []rotator.Statement{{Sid: SidMasterSecrets, Actions: []string{"secretsmanager:GetSecretValue"},
		Resources: []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds/master-??????"}}}
	if err != nil || !reflect.DeepEqual(st, want) {
		t.Errorf("alternating-users: %+v, %v; want %+v", st, err, want)
	}
	if _, err := ask(rotator.Options{OptStrategy: AlternatingUsers}, home); err == nil || !strings.Contains(err.Error(), OptMasterSecret) {
		t.Errorf("alternating-users without master-secret: %v, want an error naming the option", err)
	}
	if st, err := ask(rotator.Options{OptStrategy: AlternatingUsers, OptMasterSecret: "rds/master"}); err != nil || st != nil {
		t.Errorf("alternating-users, no secret of the kind (a function serving postgres and mysql): %+v, %v; want nothing", st, err)
	}
	every, err := permissions(rotator.PermissionRequest{Every: true})
	if err != nil || len(every) != 1 || every[0].Resources[0] != rotator.Placeholder("database-master-secret-arns") {
		t.Errorf("every: %+v, %v", every, err)
	}
}
