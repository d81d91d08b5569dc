package kube

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// expired reads the API server's clock when the Lease and the answer carry
// it, and falls back to the local clock against renewTime when not.
func TestExpired(t *testing.T) {
	base := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	secs := int32(60)
	lease := func(renewed time.Time, written ...time.Time) *coordinationv1.Lease {
		r := metav1.NewMicroTime(renewed)
		l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: &secs, RenewTime: &r}}
		for i, w := range written {
			mt := metav1.NewTime(w)
			l.ManagedFields = append(l.ManagedFields, metav1.ManagedFieldsEntry{Manager: string(rune('a' + i)), Time: &mt})
		}
		return l
	}
	for _, c := range []struct {
		name                string
		l                   *coordinationv1.Lease
		serverNow, localNow time.Time
		want                bool
	}{
		{"written 61s ago by the server's clock: within the second of resolution", lease(base, base), base.Add(61 * time.Second), base, false},
		{"written 62s ago", lease(base, base), base.Add(62 * time.Second), base, true},
		{"renewTime an hour old, written just now", lease(base.Add(-time.Hour), base), base.Add(time.Second), base, false},
		{"renewTime an hour ahead, written long ago", lease(base.Add(time.Hour), base), base.Add(2 * time.Minute), base, true},
		{"the latest of several managers' times", lease(base, base.Add(-time.Hour), base), base.Add(30 * time.Second), base, false},
		{"no managed fields: renewTime against the local clock", lease(base), base.Add(time.Hour), base.Add(30 * time.Second), false},
		{"no managed fields, local clock past the lease", lease(base), time.Time{}, base.Add(61 * time.Second), true},
		{"no server date: the local clock", lease(base, base), time.Time{}, base.Add(61 * time.Second), true},
		{"no renewTime, no managed fields", &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: &secs}}, base, base, true},
		{"no duration", &coordinationv1.Lease{}, base, base, true},
	} {
		if got := expired(c.l, c.serverNow, c.localNow); got != c.want {
			t.Errorf("%s: expired %v, want %v", c.name, got, c.want)
		}
	}
}
