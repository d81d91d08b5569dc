package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/schedule"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// Labels and annotations rotor reads and writes.
const (
	// AnnotationPrefix starts the annotations that are rotor:* tags.
	AnnotationPrefix = "rotor.io/"
	// AnnotationName holds the secret's name when the Secret's differs.
	AnnotationName = "rotor.io/name"
	// AnnotationVersion names the version the Secret's data holds.
	AnnotationVersion = "rotor.io/version"
	// AnnotationDataKey puts the whole value under one data key.
	AnnotationDataKey = "rotor.io/data-key"
	// AnnotationSchedule is the rotation schedule: rate(…) or cron(…).
	AnnotationSchedule = "rotor.io/schedule"
	// LabelState marks a companion Secret ("true").
	LabelState = "rotor.io/state"
	// LabelSeed is the IAM key rotation tool's label: kind iam-access-key,
	// auth=self.
	LabelSeed = "aws-rotate-key"
	// LabelECRSeed, AnnotationECRSecret, AnnotationECRRegion and
	// AnnotationECRExpiresAt are those of the ECR half of the same tool: a
	// kubernetes.io/dockerconfigjson Secret labelled aws-ecr-updater=true
	// is kind ecr, called with the IAM key of the Secret its annotation
	// names, in its region; rotor writes the tokens' expiry back.
	LabelECRSeed           = "aws-ecr-updater"
	AnnotationECRSecret    = "aws-ecr-updater/secret"
	AnnotationECRRegion    = "aws-ecr-updater/region"
	AnnotationECRExpiresAt = "aws-ecr-updater/expires-at"
	// StateSuffix ends a companion Secret's name.
	StateSuffix = ".rotor"
	// stateKey is the companion's data key.
	stateKey = "state"
	// defaultDataKey holds a value that is not a JSON object of data keys.
	defaultDataKey = "value"
	managedBy      = "app.kubernetes.io/managed-by"
)

// reserved are the rotor.io/ annotations that are not tags.
var reserved = map[string]bool{AnnotationName: true, AnnotationVersion: true, AnnotationDataKey: true, AnnotationSchedule: true}

// Config configures a Store.
type Config struct {
	// Client talks to the API server.
	Client *kubeclient.Client
	// Namespace holds the Secrets.
	Namespace string
	// Region and AccountID go into ARNs; us-east-1 and 000000000000 by default.
	Region    string
	AccountID string
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Logger gets warnings (a Secret whose data cannot be read as a value);
	// discarded when nil.
	Logger *slog.Logger
	// LockLease is the duration of a rotation lock's Lease; LeaseDuration
	// by default.
	LockLease time.Duration
}

// Store is a store.Store over the Secrets of one namespace.
type Store struct {
	*local.Store
	b *backend
}

var _ store.Store = (*Store)(nil)

// New returns the store of cfg.Namespace.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("kube store: no Kubernetes client")
	}
	if cfg.Namespace == "" {
		return nil, errors.New("kube store: no namespace; pass --namespace or set ROTOR_KUBE_NAMESPACE")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LockLease == 0 {
		cfg.LockLease = LeaseDuration
	}
	if cfg.LockLease < time.Second {
		return nil, fmt.Errorf("kube store: a rotation lock's lease of %s is under the API's one second", cfg.LockLease)
	}
	b := &backend{c: cfg.Client, ns: cfg.Namespace, region: cfg.Region, account: cfg.AccountID, log: cfg.Logger, now: cfg.Now, lease: cfg.LockLease}
	return &Store{Store: local.NewWithBackend(local.Config{Region: cfg.Region, AccountID: cfg.AccountID, Now: cfg.Now}, b), b: b}, nil
}

// Namespace returns the store's namespace.
func (s *Store) Namespace() string { return s.b.ns }

// ObjectName returns the name of the Secret that holds the secret name.
func ObjectName(name string) string {
	if len(name) <= validation.DNS1123SubdomainMaxLength-len(StateSuffix) && !strings.HasSuffix(name, StateSuffix) &&
		len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name
	}
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 200 {
			break
		}
	}
	sum := sha256.Sum256([]byte(name))
	base := strings.TrimRight(b.String(), "-")
	if base == "" {
		base = "secret"
	}
	return base + "-" + hex.EncodeToString(sum[:])[:10]
}

// backend keeps each secret in a Secret and its companion.
type backend struct {
	c       *kubeclient.Client
	ns      string
	region  string
	account string
	log     *slog.Logger
	now     func() time.Time
	lease   time.Duration // of a rotation lock
}

func (b *backend) secrets() secretsClient { return b.c.Secrets(b.ns) }

type secretsClient interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Secret, error)
	List(ctx context.Context, opts metav1.ListOptions) (*corev1.SecretList, error)
	Create(ctx context.Context, s *corev1.Secret, opts metav1.CreateOptions) (*corev1.Secret, error)
	Update(ctx context.Context, s *corev1.Secret, opts metav1.UpdateOptions) (*corev1.Secret, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// nameOf returns the secret name an id (name or ARN) refers to.
func nameOf(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	parts := strings.SplitN(id, ":", 7)
	if len(parts) < 7 {
		return id
	}
	n := parts[6]
	if len(n) > 7 && n[len(n)-7] == '-' {
		return n[:len(n)-7]
	}
	return n
}

// Load reads the Secret and companion of id, or every secret rotor
// recognises in the namespace when id is "".
func (b *backend) Load(ctx context.Context, id string) ([]local.Record, error) {
	if id == "" {
		return b.loadAll(ctx)
	}
	obj := ObjectName(nameOf(id))
	sec, err := b.secrets().Get(ctx, obj, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		sec = nil
	} else if err != nil {
		return nil, apiError("read Secret "+b.ns+"/"+obj, err)
	}
	st, err := b.secrets().Get(ctx, obj+StateSuffix, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		st = nil
	} else if err != nil {
		return nil, apiError("read Secret "+b.ns+"/"+obj+StateSuffix, err)
	}
	rec, ok, err := b.record(ctx, sec, st)
	if err != nil || !ok {
		return nil, err
	}
	return []local.Record{rec}, nil
}

func (b *backend) loadAll(ctx context.Context) ([]local.Record, error) {
	byName := map[string]*corev1.Secret{}
	states := map[string]*corev1.Secret{}
	opts := metav1.ListOptions{Limit: 250}
	for {
		list, err := b.secrets().List(ctx, opts)
		if err != nil {
			return nil, apiError("list the Secrets of namespace "+b.ns, err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			if of, ok := strings.CutSuffix(s.Name, StateSuffix); ok && s.Labels[LabelState] == "true" {
				states[of] = s
			} else {
				byName[s.Name] = s
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			break
		}
	}
	var out []local.Record
	for name, sec := range byName {
		rec, ok, err := b.record(ctx, sec, states[name])
		if err != nil {
			b.log.Warn("skipping a Secret rotor cannot read", "secret", b.ns+"/"+name, "error", err)
			continue
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// record makes the Record of a Secret and its companion (either may be nil).
// ok is false when there is no secret: no Secret, or one rotor does not
// manage.
func (b *backend) record(ctx context.Context, sec, st *corev1.Secret) (local.Record, bool, error) {
	if sec == nil {
		return local.Record{}, false, nil // a companion alone is the remains of a deleted Secret
	}
	tags := overlay(sec)
	rot, err := rotationOf(sec)
	if err != nil {
		return local.Record{}, false, err
	}
	rev := sec.ResourceVersion + "/"
	if st != nil {
		// A companion of an earlier Secret of the same name is replaced.
		rev += st.ResourceVersion
	}
	if st != nil && ownedBy(st, sec) {
		data := st.Data[stateKey]
		v, err := local.ViewOf(data)
		if err != nil {
			return local.Record{}, false, fmt.Errorf("the state of %s/%s: %w", b.ns, st.Name, err)
		}
		if sec.Annotations[AnnotationVersion] != v.CurrentID {
			b.repair(ctx, sec, v)
		}
		return local.Record{Data: data, Rev: rev, Tags: tags, Rotation: rot}, true, nil
	}
	if !b.recognised(sec) {
		return local.Record{}, false, nil
	}
	val, err := valueOf(sec)
	if err != nil {
		return local.Record{}, false, fmt.Errorf("the Secret %s/%s: %w", b.ns, sec.Name, err)
	}
	name := sec.Name
	if n := sec.Annotations[AnnotationName]; n != "" && ObjectName(n) == sec.Name {
		name = n
	}
	created := sec.CreationTimestamp.Time
	vid := versionID(sec)
	data, err := local.NewRecord(b.arn(name, sec), name, created, vid, val, nil)
	if err != nil {
		return local.Record{}, false, fmt.Errorf("adopt Secret %s/%s: %w", b.ns, sec.Name, err)
	}
	return local.Record{Data: data, Rev: rev, Tags: tags, Rotation: rot}, true, nil
}

// rotationOf returns the rotation a Secret's metadata configures: a Secret
// with the annotation rotor.io/kind or the label aws-rotate-key=true
// rotates, on the schedule of rotor.io/schedule if any. It is nil for other
// Secrets, whose rotation is what rotor was told through its commands.
func rotationOf(sec *corev1.Secret) (*store.RotationRules, error) {
	_, kind := sec.Annotations[AnnotationPrefix+"kind"]
	if !kind && sec.Labels[LabelSeed] != "true" && sec.Labels[LabelECRSeed] != "true" {
		return nil, nil
	}
	rules := &store.RotationRules{}
	if expr := strings.TrimSpace(sec.Annotations[AnnotationSchedule]); expr != "" {
		rules.ScheduleExpression = expr
		if _, err := schedule.Parse(*rules); err != nil {
			return nil, fmt.Errorf("the Secret %s/%s: annotation %s: %w", sec.Namespace, sec.Name, AnnotationSchedule, err)
		}
	}
	return rules, nil
}

// recognised reports whether rotor manages a Secret that has no companion.
func (b *backend) recognised(sec *corev1.Secret) bool {
	if sec.Labels[LabelSeed] == "true" || sec.Labels[LabelECRSeed] == "true" {
		return true
	}
	_, kind := sec.Annotations[AnnotationPrefix+"kind"]
	_, named := sec.Annotations[AnnotationName]
	return kind || named || sec.Labels[managedBy] == "rotor"
}

// versionID is the id of an adopted Secret's first version: the same for
// every process that adopts it, so two of them agree.
func versionID(sec *corev1.Secret) string {
	sum := sha256.Sum256([]byte(string(sec.UID) + "/" + sec.ResourceVersion))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// arn is the ARN of a secret kept in sec: the suffix comes from the Secret's
// UID, so it is stable and differs for a new Secret of the same name.
func (b *backend) arn(name string, sec *corev1.Secret) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(sec.UID))
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = alnum[int(sum[i])%len(alnum)]
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", b.region, b.account, name, suffix)
}

func ownedBy(st, sec *corev1.Secret) bool {
	for _, o := range st.OwnerReferences {
		if o.UID == sec.UID {
			return true
		}
	}
	return false
}

// overlay returns the tags a Secret's labels and annotations set.
func overlay(sec *corev1.Secret) []store.Tag {
	var tags []store.Tag
	have := map[string]bool{}
	for k, v := range sec.Annotations {
		if !strings.HasPrefix(k, AnnotationPrefix) || reserved[k] {
			continue
		}
		opt := strings.TrimPrefix(k, AnnotationPrefix)
		tags = append(tags, store.Tag{Key: "rotor:" + opt, Value: v})
		have[opt] = true
	}
	var seed map[string]string
	switch {
	case sec.Labels[LabelSeed] == "true":
		seed = map[string]string{"kind": "iam-access-key", "auth": "self", "user-from": "key"}
	case sec.Labels[LabelECRSeed] == "true":
		seed = map[string]string{"kind": "ecr"}
		if v := sec.Annotations[AnnotationECRSecret]; v != "" {
			seed["key-secret"] = v
		}
		if v := sec.Annotations[AnnotationECRRegion]; v != "" {
			seed["region"] = v
		}
	}
	for _, opt := range slices.Sorted(maps.Keys(seed)) {
		if !have[opt] {
			tags = append(tags, store.Tag{Key: "rotor:" + opt, Value: seed[opt]})
		}
	}
	return tags
}

// Save writes each change: the companion first, then the Secret.
func (b *backend) Save(ctx context.Context, changes []local.Change) error {
	for _, c := range changes {
		var err error
		if c.Removed {
			err = b.remove(ctx, c)
		} else {
			err = b.write(ctx, c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func splitRev(rev string) (sec, st string) {
	sec, st, _ = strings.Cut(rev, "/")
	return sec, st
}

func (b *backend) remove(ctx context.Context, c local.Change) error {
	obj := ObjectName(c.Name)
	secRV, stRV := splitRev(c.Rev)
	if stRV != "" {
		err := b.secrets().Delete(ctx, obj+StateSuffix, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &stRV}})
		if err != nil && !apierrors.IsNotFound(err) {
			return apiError("delete Secret "+b.ns+"/"+obj+StateSuffix, err)
		}
	}
	if secRV != "" {
		err := b.secrets().Delete(ctx, obj, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &secRV}})
		if err != nil && !apierrors.IsNotFound(err) {
			return apiError("delete Secret "+b.ns+"/"+obj, err)
		}
	}
	return nil
}

func (b *backend) write(ctx context.Context, c local.Change) error {
	obj := ObjectName(c.Name)
	secRV, stRV := splitRev(c.Rev)
	var sec *corev1.Secret
	if secRV == "" {
		// A new secret: its Secret first, since the companion names it as owner.
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: obj, Namespace: b.ns,
			Labels: map[string]string{managedBy: "rotor"}}}
		if obj != c.Name {
			sec.Annotations = map[string]string{AnnotationName: c.Name}
		}
		if err := project(sec, c.View); err != nil {
			return err
		}
		created, err := b.secrets().Create(ctx, sec, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return store.Errorf(store.ErrResourceExists,
				"a Secret %s/%s already exists and rotor does not manage it; annotate it with %skind to have rotor adopt it", b.ns, obj, AnnotationPrefix)
		}
		if err != nil {
			return apiError("create Secret "+b.ns+"/"+obj, err)
		}
		sec = created
	} else {
		got, err := b.secrets().Get(ctx, obj, metav1.GetOptions{})
		if err != nil {
			return apiError("read Secret "+b.ns+"/"+obj, err)
		}
		if got.ResourceVersion != secRV {
			// Changed by someone else since the operation read it: its
			// annotations (options) may differ, so read and run again.
			return fmt.Errorf("the Secret %s/%s: %w", b.ns, obj, local.ErrConflict)
		}
		sec = got
	}
	st := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: obj + StateSuffix, Namespace: b.ns, ResourceVersion: stRV,
			Labels:          map[string]string{LabelState: "true", managedBy: "rotor"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: sec.Name, UID: sec.UID}}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{stateKey: c.Data},
	}
	var err error
	if stRV == "" {
		_, err = b.secrets().Create(ctx, st, metav1.CreateOptions{})
	} else {
		_, err = b.secrets().Update(ctx, st, metav1.UpdateOptions{})
	}
	if err != nil {
		return apiError("write Secret "+b.ns+"/"+st.Name, err)
	}
	if secRV == "" {
		return nil
	}
	return b.follow(ctx, sec, c.View)
}

// follow brings the Secret's data and annotations to what view says,
// rereading it after a conflict: the companion, already written, is the
// truth it follows.
func (b *backend) follow(ctx context.Context, sec *corev1.Secret, v local.View) error {
	for attempt := 0; ; attempt++ {
		if sameProjection(sec, v) {
			return nil
		}
		next := sec.DeepCopy()
		if err := project(next, v); err != nil {
			return err
		}
		_, err := b.secrets().Update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= 20 {
			return apiError("update Secret "+b.ns+"/"+sec.Name, err)
		}
		if sec, err = b.secrets().Get(ctx, sec.Name, metav1.GetOptions{}); err != nil {
			return apiError("read Secret "+b.ns+"/"+sec.Name, err)
		}
	}
}

// repair brings a Secret left behind by a process that died between writing
// the companion and the Secret up to date. A failure is only logged: the
// next operation tries again.
func (b *backend) repair(ctx context.Context, sec *corev1.Secret, v local.View) {
	if err := b.follow(ctx, sec.DeepCopy(), v); err != nil {
		b.log.Warn("could not bring the Secret's data up to date with its current version", "secret", b.ns+"/"+sec.Name, "error", err)
	}
}

// apiError turns an API error into a store error where one fits, and says
// what was being done. Errors from the API server never carry Secret data.
func apiError(what string, err error) error {
	switch {
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return fmt.Errorf("%s: %w (%v)", what, local.ErrConflict, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w; grant the verb to rotor's service account (see deploy/kubernetes/role.yaml)", what, err)
	case apierrors.IsNotFound(err):
		return store.Errorf(store.ErrNotFound, "%s: %v", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Client returns the store's Kubernetes client (for leader election on a
// Lease in the same namespace).
func (s *Store) Client() *kubeclient.Client { return s.b.c }
