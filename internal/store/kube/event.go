package kube

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event reasons.
const (
	ReasonRotated        = "Rotated"
	ReasonRotationFailed = "RotationFailed"
)

// RecordRotation records a Kubernetes Event on the Secret of secretID (a
// name or an ARN): reason Rotated (type Normal) with message, or
// RotationFailed (type Warning) with the error. Messages name versions and
// errors, never a value. A Secret that is gone gets no Event.
func (s *Store) RecordRotation(ctx context.Context, secretID, message string, failure error) error {
	obj := ObjectName(nameOf(s.canon(secretID)))
	sec, err := s.b.secrets().Get(ctx, obj, metav1.GetOptions{})
	if err != nil {
		return apiError("read Secret "+s.b.ns+"/"+obj, err)
	}
	reason, typ := ReasonRotated, corev1.EventTypeNormal
	if failure != nil {
		reason, typ, message = ReasonRotationFailed, corev1.EventTypeWarning, failure.Error()
	}
	if len(message) > 1024 {
		message = message[:1021] + "..."
	}
	now := metav1.NewTime(s.b.now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: obj + "." + strconv.FormatInt(now.UnixNano(), 16), Namespace: s.b.ns},
		InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: s.b.ns, Name: sec.Name,
			UID: sec.UID, ResourceVersion: sec.ResourceVersion},
		Reason: reason, Message: message, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: "rotor"},
		ReportingController: "rotor.io/rotor", ReportingInstance: "rotor",
	}
	if _, err := s.b.c.Events(s.b.ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("record event %s on Secret %s/%s: %w", reason, s.b.ns, obj, err)
	}
	return nil
}
