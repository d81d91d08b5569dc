// Tests of the Helm chart in rotor/, rendered with Helm's engine: its
// default objects are those of deploy/kubernetes (the Role's rules exactly),
// its values render valid objects, and the rendered objects, applied to a
// real kube-apiserver, let rotor rotate as the chart's ServiceAccount and do
// nothing more.
package helm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/rotorhq/rotor/internal/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const (
	chartDir     = "rotor"
	kustomizeDir = "../kubernetes"
	releaseName  = "prod"
)

// objects is one rendering of the chart (or of the kustomization), decoded
// strictly: a field the API types do not have fails the test.
type objects struct {
	sa         *corev1.ServiceAccount
	role       *rbacv1.Role
	rb         *rbacv1.RoleBinding
	cronJob    *batchv1.CronJob
	deployment *appsv1.Deployment
	service    *corev1.Service
	kinds      []string
}

// render renders the chart with vals over its values.yaml as release
// releaseName in namespace ns.
func render(t *testing.T, ns string, vals map[string]any) (*objects, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	rv, err := util.ToRenderValues(ch, vals,
		common.ReleaseOptions{Name: releaseName, Namespace: ns, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	o := &objects{}
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(files[name], "\n---") {
			o.add(t, name, []byte(doc))
		}
	}
	return o, nil
}

// mustRender is render that fails the test on an error.
func mustRender(t *testing.T, ns string, vals map[string]any) *objects {
	t.Helper()
	o, err := render(t, ns, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return o
}

// add decodes one YAML document into its type.
func (o *objects) add(t *testing.T, source string, doc []byte) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	if tm.Kind == "" {
		if len(bytes.TrimSpace(stripComments(doc))) != 0 {
			t.Fatalf("%s: a document without a kind:\n%s", source, doc)
		}
		return
	}
	var out any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ServiceAccount":
		o.sa = &corev1.ServiceAccount{}
		out = o.sa
	case "rbac.authorization.k8s.io/v1 Role":
		o.role = &rbacv1.Role{}
		out = o.role
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		o.rb = &rbacv1.RoleBinding{}
		out = o.rb
	case "batch/v1 CronJob":
		o.cronJob = &batchv1.CronJob{}
		out = o.cronJob
	case "apps/v1 Deployment":
		o.deployment = &appsv1.Deployment{}
		out = o.deployment
	case "v1 Service":
		o.service = &corev1.Service{}
		out = o.service
	default:
		t.Fatalf("%s: unexpected %s %s", source, tm.APIVersion, tm.Kind)
	}
	if slices.Contains(o.kinds, tm.Kind) {
		t.Fatalf("%s: a second %s", source, tm.Kind)
	}
	o.kinds = append(o.kinds, tm.Kind)
	if err := yaml.UnmarshalStrict(doc, out); err != nil {
		t.Fatalf("%s: %v\n%s", source, err, doc)
	}
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// kustomize reads the kustomization in deploy/kubernetes as `kustomize
// build` renders it: its resources with its image replaced.
func kustomize(t *testing.T) *objects {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kustomizeDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name, NewName, NewTag string
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	o := &objects{}
	for _, r := range k.Resources {
		doc, err := os.ReadFile(filepath.Join(kustomizeDir, r))
		if err != nil {
			t.Fatal(err)
		}
		o.add(t, r, doc)
	}
	if o.cronJob == nil {
		t.Fatal("the kustomization has no CronJob")
	}
	cs := o.cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers
	for i := range cs {
		for _, img := range k.Images {
			if cs[i].Image == img.Name {
				cs[i].Image = img.NewName + ":" + img.NewTag
			}
		}
	}
	return o
}

// sameMeta checks that the chart's object is in ns and carries every label
// of the kustomization's, then makes its metadata the kustomization's for
// the comparison of the rest.
func sameMeta(t *testing.T, kind, ns string, chart, kust *metav1.ObjectMeta) {
	t.Helper()
	if chart.Name != kust.Name {
		t.Errorf("%s: name %q, kustomization %q", kind, chart.Name, kust.Name)
	}
	if chart.Namespace != ns {
		t.Errorf("%s: namespace %q, want %q", kind, chart.Namespace, ns)
	}
	subsetLabels(t, kind, chart.Labels, kust.Labels)
	if chart.Labels["app.kubernetes.io/instance"] != releaseName || chart.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Errorf("%s: labels %v lack the release's", kind, chart.Labels)
	}
	*chart = *kust.DeepCopy()
}

func subsetLabels(t *testing.T, what string, chart, kust map[string]string) {
	t.Helper()
	for k, v := range kust {
		if chart[k] != v {
			t.Errorf("%s: label %s=%q, kustomization %q", what, k, chart[k], v)
		}
	}
}

// same fails unless a and b are semantically equal, showing both.
func same(t *testing.T, what string, chart, kust any) {
	t.Helper()
	if !equality.Semantic.DeepEqual(chart, kust) {
		cb, _ := yaml.Marshal(chart)
		kb, _ := yaml.Marshal(kust)
		t.Errorf("%s differs from the kustomization's:\nchart:\n%s\nkustomization:\n%s", what, cb, kb)
	}
}

// TestDefaultsAreTheKustomization is the drift test: the chart's default
// rendering holds the objects of deploy/kubernetes, the same but for the
// release's labels and the namespace, and the Role's rules exactly.
func TestDefaultsAreTheKustomization(t *testing.T) {
	const ns = "rotation"
	got := mustRender(t, ns, nil)
	want := kustomize(t)
	if !slices.Equal(got.kinds, []string{"CronJob", "Role", "RoleBinding", "ServiceAccount"}) {
		t.Fatalf("the chart renders %v, want CronJob, Role, RoleBinding, ServiceAccount", got.kinds)
	}
	if !reflect.DeepEqual(got.role.Rules, want.role.Rules) {
		t.Errorf("the Role's rules drifted from deploy/kubernetes/role.yaml:\nchart: %+v\nkustomization: %+v", got.role.Rules, want.role.Rules)
	}

	sameMeta(t, "ServiceAccount", ns, &got.sa.ObjectMeta, &want.sa.ObjectMeta)
	same(t, "ServiceAccount", got.sa, want.sa)
	sameMeta(t, "Role", ns, &got.role.ObjectMeta, &want.role.ObjectMeta)
	same(t, "Role", got.role, want.role)

	sameMeta(t, "RoleBinding", ns, &got.rb.ObjectMeta, &want.rb.ObjectMeta)
	for i, s := range got.rb.Subjects {
		if s.Namespace != ns {
			t.Errorf("RoleBinding subject %d: namespace %q, want %q", i, s.Namespace, ns)
		}
		got.rb.Subjects[i].Namespace = ""
	}
	same(t, "RoleBinding", got.rb, want.rb)

	sameMeta(t, "CronJob", ns, &got.cronJob.ObjectMeta, &want.cronJob.ObjectMeta)
	gp, wp := &got.cronJob.Spec.JobTemplate.Spec.Template.ObjectMeta, &want.cronJob.Spec.JobTemplate.Spec.Template.ObjectMeta
	subsetLabels(t, "CronJob pod template", gp.Labels, wp.Labels)
	gp.Labels = wp.Labels
	same(t, "CronJob", got.cronJob, want.cronJob)
}

// TestAllowDelete: rbac.allowDelete adds secrets delete and nothing else.
func TestAllowDelete(t *testing.T) {
	got := mustRender(t, "rotation", map[string]any{"rbac": map[string]any{"allowDelete": true}})
	want := kustomize(t).role.Rules
	want[0].Verbs = append(want[0].Verbs, "delete")
	if !reflect.DeepEqual(got.role.Rules, want) {
		t.Errorf("rules with allowDelete: %+v, want %+v", got.role.Rules, want)
	}
}

// checkPod checks what both modes promise of the pod: the chart's
// ServiceAccount, non-root, no privilege escalation or capabilities, a
// read-only root file system.
func checkPod(t *testing.T, name string, pod *corev1.PodSpec) *corev1.Container {
	t.Helper()
	if pod.ServiceAccountName != name {
		t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, name)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod may run as root")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := &pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("the container's security context is %+v, want read-only, no escalation, all capabilities dropped", sc)
	}
	return c
}

// checkNames checks every object's name and namespace and the RoleBinding's
// references.
func checkNames(t *testing.T, o *objects, name, ns string) {
	t.Helper()
	for _, m := range []*metav1.ObjectMeta{&o.sa.ObjectMeta, &o.role.ObjectMeta, &o.rb.ObjectMeta} {
		if m.Name != name || m.Namespace != ns {
			t.Errorf("an object is %s/%s, want %s/%s", m.Namespace, m.Name, ns, name)
		}
	}
	if o.rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}) {
		t.Errorf("roleRef %+v does not name the Role %s", o.rb.RoleRef, name)
	}
	if len(o.rb.Subjects) != 1 || o.rb.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: ns}) {
		t.Errorf("subjects %+v, want the ServiceAccount %s/%s", o.rb.Subjects, ns, name)
	}
}

// TestCronJobValues: the CronJob's image, schedule, namespace, arguments,
// resources and environment come from the values.
func TestCronJobValues(t *testing.T) {
	o := mustRender(t, "ignored", map[string]any{
		"name":      "rotor-payments",
		"namespace": "payments",
		"image": map[string]any{"repository": "registry.example.com/rotor", "digest": "sha256:" + strings.Repeat("ab", 32),
			"pullPolicy": "IfNotPresent"},
		"imagePullSecrets": []any{map[string]any{"name": "regcred"}},
		"globalArgs":       []any{"--store=kube"},
		"cronjob": map[string]any{"schedule": "*/15 * * * *", "timeZone": "Europe/Berlin",
			"args": []any{"rotate", "--all"}, "backoffLimit": 0},
		"resources": map[string]any{"limits": map[string]any{"memory": "64Mi", "cpu": "100m"}},
		"env":       []any{map[string]any{"name": "ROTOR_LOG_LEVEL", "value": "debug"}},
		"podLabels": map[string]any{"team": "payments"},
		"nodeSelector": map[string]any{
			"kubernetes.io/arch": "arm64",
		},
	})
	if o.deployment != nil || o.service != nil || o.cronJob == nil {
		t.Fatalf("cronjob mode renders %v", o.kinds)
	}
	checkNames(t, o, "rotor-payments", "payments")
	cj := o.cronJob
	if cj.Name != "rotor-payments" || cj.Namespace != "payments" {
		t.Errorf("the CronJob is %s/%s", cj.Namespace, cj.Name)
	}
	if cj.Spec.Schedule != "*/15 * * * *" || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Europe/Berlin" {
		t.Errorf("schedule %q in %v", cj.Spec.Schedule, cj.Spec.TimeZone)
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q, want Forbid", cj.Spec.ConcurrencyPolicy)
	}
	if b := cj.Spec.JobTemplate.Spec.BackoffLimit; b == nil || *b != 0 {
		t.Errorf("backoffLimit %v, want 0", b)
	}
	tmpl := cj.Spec.JobTemplate.Spec.Template
	if tmpl.Labels["team"] != "payments" || tmpl.Labels["app.kubernetes.io/name"] != "rotor-payments" {
		t.Errorf("pod labels %v", tmpl.Labels)
	}
	pod := &tmpl.Spec
	c := checkPod(t, "rotor-payments", pod)
	if want := "registry.example.com/rotor@sha256:" + strings.Repeat("ab", 32); c.Image != want {
		t.Errorf("image %q, want %q", c.Image, want)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("imagePullPolicy %q", c.ImagePullPolicy)
	}
	if len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("imagePullSecrets %v", pod.ImagePullSecrets)
	}
	if want := []string{"--store=kube", "rotate", "--all"}; !slices.Equal(c.Args, want) {
		t.Errorf("args %q, want %q", c.Args, want)
	}
	// Helm merges maps: the default requests stay.
	if c.Resources.Limits.Memory().String() != "64Mi" || c.Resources.Limits.Cpu().String() != "100m" ||
		c.Resources.Requests.Memory().String() != "32Mi" || c.Resources.Requests.Cpu().String() != "10m" {
		t.Errorf("resources %+v", c.Resources)
	}
	if len(c.Env) != 1 || c.Env[0] != (corev1.EnvVar{Name: "ROTOR_LOG_LEVEL", Value: "debug"}) {
		t.Errorf("env %+v", c.Env)
	}
	if pod.NodeSelector["kubernetes.io/arch"] != "arm64" {
		t.Errorf("nodeSelector %v", pod.NodeSelector)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", pod.RestartPolicy)
	}
}

// serverValues is server mode with metrics (a new map each time: Helm
// merges the defaults into the maps it is given).
func serverValues() map[string]any {
	return map[string]any{
		"mode": "server",
		"server": map[string]any{"credentialsSecret": "rotor-server-key", "metricsPort": 9464, "port": 8300,
			"checkInterval": "5m", "extraArgs": []any{"--concurrency=2"}},
		"image": map[string]any{"tag": "v1.2.3"},
	}
}

// TestServerValues: server mode renders a Deployment of `rotor server`
// listening on the port, with its key from the Secret, and a Service
// selecting its pods; no CronJob.
func TestServerValues(t *testing.T) {
	o := mustRender(t, "rotation", serverValues())
	if !slices.Equal(o.kinds, []string{"Deployment", "Service", "Role", "RoleBinding", "ServiceAccount"}) {
		t.Fatalf("server mode renders %v", o.kinds)
	}
	checkNames(t, o, "rotor", "rotation")
	d := o.deployment
	if d.Namespace != "rotation" || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("Deployment %s/%s with %v replicas", d.Namespace, d.Name, d.Spec.Replicas)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the selector %v does not select the pod labels %v", sel, d.Spec.Template.Labels)
	}
	c := checkPod(t, "rotor", &d.Spec.Template.Spec)
	if c.Image != "ghcr.io/rotorhq/rotor:v1.2.3" {
		t.Errorf("image %q", c.Image)
	}
	want := []string{"--store=kube", "--log-format=json", "server", "--listen=0.0.0.0:8300", "--allow-remote",
		"--check-interval=5m", "--metrics-listen=0.0.0.0:9464", "--concurrency=2"}
	if !slices.Equal(c.Args, want) {
		t.Errorf("args %q, want %q", c.Args, want)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for name, key := range map[string]string{"ROTOR_SERVER_ACCESS_KEY_ID": "access-key-id", "ROTOR_SERVER_SECRET_ACCESS_KEY": "secret-access-key"} {
		e := env[name]
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "rotor-server-key" || e.ValueFrom.SecretKeyRef.Key != key || e.Value != "" {
			t.Errorf("%s is %+v, want the Secret rotor-server-key's %s", name, e, key)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["api"] != 8300 || ports["metrics"] != 9464 {
		t.Errorf("container ports %v", c.Ports)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.TCPSocket == nil || c.ReadinessProbe.TCPSocket.Port.String() != "api" {
		t.Errorf("readiness probe %+v", c.ReadinessProbe)
	}
	if rp := d.Spec.Template.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
		t.Errorf("restartPolicy %q", rp)
	}
	s := o.service
	if !sel.Matches(labels.Set(s.Spec.Selector)) || !reflect.DeepEqual(s.Spec.Selector, d.Spec.Selector.MatchLabels) {
		t.Errorf("the Service selects %v, the Deployment's pods are %v", s.Spec.Selector, d.Spec.Template.Labels)
	}
	sp := map[string]string{}
	for _, p := range s.Spec.Ports {
		sp[p.Name] = p.TargetPort.String()
		if p.Name == "api" && p.Port != 8300 || p.Name == "metrics" && p.Port != 9464 {
			t.Errorf("Service port %+v", p)
		}
	}
	if !reflect.DeepEqual(sp, map[string]string{"api": "api", "metrics": "metrics"}) {
		t.Errorf("Service ports %+v", s.Spec.Ports)
	}
}

// TestLeaderElection: more than one server replica elects a scheduler
// (rotor server --leader-elect on the Lease of the values), and the Role
// grants what client-go's leader election does with that Lease; one replica
// does not elect unless asked to.
func TestLeaderElection(t *testing.T) {
	flags := func(vals map[string]any) []string {
		t.Helper()
		o := mustRender(t, "rotation", vals)
		if !granted(o.role.Rules, "coordination.k8s.io", "leases", "get") ||
			!granted(o.role.Rules, "coordination.k8s.io", "leases", "create") ||
			!granted(o.role.Rules, "coordination.k8s.io", "leases", "update") {
			t.Errorf("the Role %+v does not grant leases get, create, update", o.role.Rules)
		}
		var out []string
		for _, a := range o.deployment.Spec.Template.Spec.Containers[0].Args {
			if strings.HasPrefix(a, "--leader-") {
				out = append(out, a)
			}
		}
		return out
	}
	with := func(server map[string]any) map[string]any {
		v := serverValues()
		for k, x := range server {
			v["server"].(map[string]any)[k] = x
		}
		return v
	}
	def := []string{"--leader-elect", "--leader-lease=rotor-scheduler", "--leader-lease-duration=15s"}
	for _, tc := range []struct {
		name   string
		server map[string]any
		want   []string
	}{
		{"one replica", nil, nil},
		{"two replicas", map[string]any{"replicas": 2}, def},
		{"one replica, asked", map[string]any{"leaderElection": map[string]any{"enabled": true}}, def},
		{"three replicas, another lease", map[string]any{"replicas": 3,
			"leaderElection": map[string]any{"lease": "payments-scheduler", "leaseDuration": "30s"}},
			[]string{"--leader-elect", "--leader-lease=payments-scheduler", "--leader-lease-duration=30s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := flags(with(tc.server)); !slices.Equal(got, tc.want) {
				t.Errorf("leader flags %q, want %q", got, tc.want)
			}
		})
	}
	_, err := render(t, "rotation", with(map[string]any{"replicas": 2, "leaderElection": map[string]any{"enabled": false}}))
	if err == nil || !strings.Contains(err.Error(), "server.leaderElection.enabled is false") {
		t.Errorf("two replicas without leader election: %v, want an error saying so", err)
	}
}

// TestBadValues: values the chart cannot honour fail the rendering, saying
// which.
func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"unknown mode", map[string]any{"mode": "daemon"}, "mode"},
		{"server without its key", map[string]any{"mode": "server"}, "server.credentialsSecret"},
		{"no name", map[string]any{"name": ""}, "name"},
		{"no schedule", map[string]any{"cronjob": map[string]any{"schedule": ""}}, "cronjob.schedule"},
		{"a misspelt value", map[string]any{"cronjob": map[string]any{"shedule": "@daily"}}, "shedule"},
		{"a port out of range", map[string]any{"mode": "server", "server": map[string]any{"credentialsSecret": "k", "port": 70000}}, "port"},
		{"a tag for a digest", map[string]any{"image": map[string]any{"digest": "v1.2.3"}}, "digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, "rotation", tc.vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("render: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

// TestLint runs `helm lint`'s rules on the chart in both modes: no warning
// or error (rotor has no icon, which lint mentions).
func TestLint(t *testing.T) {
	for _, vals := range []map[string]any{nil, serverValues()} {
		mode := "cronjob"
		if vals != nil {
			mode = "server"
		}
		l := lint.RunAll(chartDir, vals, "rotation")
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint (%s mode): %s", mode, m)
			} else {
				t.Logf("helm lint (%s mode): %s", mode, m)
			}
		}
	}
}
