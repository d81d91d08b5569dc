package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store/local"
)

// dataOf returns the Secret data that holds value: under key when it is
// set, else one data key per top-level field of a JSON object whose keys
// are all valid data keys, else the whole value under "value".
func dataOf(value secret.Value, key string) map[string][]byte {
	if key != "" {
		return map[string][]byte{key: value.Bytes()}
	}
	whole := map[string][]byte{defaultDataKey: value.Bytes()}
	if value.IsBinary() {
		return whole
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(value.Bytes(), &fields); err != nil || len(fields) == 0 {
		return whole
	}
	data := make(map[string][]byte, len(fields))
	for k, raw := range fields {
		if len(validation.IsConfigMapKey(k)) > 0 {
			return whole
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			data[k] = []byte(s)
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return whole
		}
		data[k] = buf.Bytes()
	}
	return data
}

// dataKeyOf is the one data key that holds a Secret's whole value, or ""
// for one key per field: the annotation rotor.io/data-key, else
// .dockerconfigjson for a Secret of type kubernetes.io/dockerconfigjson
// (what the kubelet reads as imagePullSecrets).
func dataKeyOf(sec *corev1.Secret) string {
	if k := sec.Annotations[AnnotationDataKey]; k != "" {
		return k
	}
	if sec.Type == corev1.SecretTypeDockerConfigJson {
		return corev1.DockerConfigJsonKey
	}
	return ""
}

// expiresAt is the top-level "expires_at" (RFC 3339) of a JSON value, the
// expiry of credentials that expire (ecr, jfrog); zero when none.
func expiresAt(v *secret.Value) time.Time {
	var head struct {
		ExpiresAt string `json:"expires_at"`
	}
	if v == nil || v.IsBinary() || json.Unmarshal(v.Bytes(), &head) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, head.ExpiresAt)
	if err != nil {
		return time.Time{}
	}
	return t
}

// valueOf reads the value of a Secret rotor adopts: the value of the
// rotor.io/data-key key, or of a lone "value" key, or the JSON object of
// every data key. It is nil when the Secret has no data.
func valueOf(sec *corev1.Secret) (*secret.Value, error) {
	key := dataKeyOf(sec)
	if key == "" && len(sec.Data) == 1 && sec.Data[defaultDataKey] != nil {
		key = defaultDataKey
	}
	if key != "" {
		b, ok := sec.Data[key]
		if !ok {
			return nil, fmt.Errorf("it has no data key %q, which %s names", key, AnnotationDataKey)
		}
		v := secret.New(string(b))
		if !utf8.Valid(b) {
			v = secret.NewBinary(b)
		}
		return &v, nil
	}
	if len(sec.Data) == 0 {
		return nil, nil
	}
	fields := make(map[string]string, len(sec.Data))
	for k, b := range sec.Data {
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("its data key %q is not text: set the annotation %s to the key rotor rotates", k, AnnotationDataKey)
		}
		fields[k] = string(b)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	v := secret.New(string(b))
	return &v, nil
}

// project sets a Secret's data and annotations from a secret's state: the
// data holds AWSCURRENT, rotor.io/version names it, and the rotor:* tags are
// rotor.io/ annotations.
func project(sec *corev1.Secret, v local.View) error {
	if v.Current != nil {
		sec.Data = dataOf(*v.Current, dataKeyOf(sec))
	} else {
		sec.Data = nil
	}
	sec.StringData = nil
	ann := maps.Clone(sec.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	for k := range ann {
		if strings.HasPrefix(k, AnnotationPrefix) && !reserved[k] {
			delete(ann, k)
		}
	}
	for _, t := range v.Tags {
		opt, ok := strings.CutPrefix(t.Key, "rotor:")
		if !ok {
			continue
		}
		k := AnnotationPrefix + opt
		if reserved[k] || len(validation.IsQualifiedName(k)) > 0 {
			continue
		}
		ann[k] = t.Value
	}
	if sec.Labels[LabelECRSeed] == "true" {
		if exp := expiresAt(v.Current); !exp.IsZero() {
			ann[AnnotationECRExpiresAt] = exp.UTC().Format(time.RFC3339)
		}
	}
	if v.CurrentID != "" {
		ann[AnnotationVersion] = v.CurrentID
	} else {
		delete(ann, AnnotationVersion)
	}
	if len(ann) == 0 {
		ann = nil
	}
	sec.Annotations = ann
	return nil
}

// sameProjection reports whether sec already shows v.
func sameProjection(sec *corev1.Secret, v local.View) bool {
	next := sec.DeepCopy()
	if err := project(next, v); err != nil {
		return false
	}
	return maps.EqualFunc(sec.Data, next.Data, bytes.Equal) && maps.Equal(sec.Annotations, next.Annotations)
}
