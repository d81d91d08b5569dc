package deploy

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/cli"
	"github.com/rotorhq/rotor/internal/policy"
)

// grant is a statement of a template as the tests read it.
type grant struct {
	actions    []string
	conditions []string // condition keys
}

// everyGrant is what `rotor policy` can print for the kinds rotor ships:
// every statement, by Sid.
func everyGrant(t *testing.T) map[string]grant {
	t.Helper()
	d, err := policy.Every(cli.Kinds(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]grant{}
	for _, s := range d.Statements {
		var conds []string
		for op, keys := range s.Condition {
			for k := range keys {
				conds = append(conds, op+" "+k)
			}
		}
		slices.Sort(conds)
		out[s.Sid] = grant{actions: s.Actions, conditions: conds}
	}
	return out
}

// checkDrift fails when the template's statements are not exactly those of
// rotor policy.
func checkDrift(t *testing.T, template string, got map[string]grant) {
	t.Helper()
	want := everyGrant(t)
	for sid, w := range want {
		g, ok := got[sid]
		if !ok {
			t.Errorf("%s lacks the statement %s that rotor policy prints (%s)", template, sid, strings.Join(w.actions, ", "))
			continue
		}
		slices.Sort(g.actions)
		slices.Sort(g.conditions)
		if !slices.Equal(g.actions, w.actions) {
			t.Errorf("%s: statement %s allows %v; rotor policy allows %v", template, sid, g.actions, w.actions)
		}
		if !slices.Equal(g.conditions, w.conditions) {
			t.Errorf("%s: statement %s has conditions %v; rotor policy has %v", template, sid, g.conditions, w.conditions)
		}
	}
	for _, sid := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[sid]; !ok {
			t.Errorf("%s has the statement %s, which rotor policy never prints", template, sid)
		}
	}
}
