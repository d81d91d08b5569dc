// Package kubeclient is rotor's Kubernetes client: the Secrets and Events of
// core/v1 and the Leases of coordination.k8s.io/v1, and nothing else.
//
// client-go's generated clientset (k8s.io/client-go/kubernetes) links a
// scheme that registers every API group of Kubernetes when the process
// starts, which costs every rotor command, most of which never talk to
// Kubernetes, several milliseconds. This client speaks through client-go's
// REST client with a scheme of only the kinds rotor reads and writes, built
// when the first client is made. Its requests are those of the clientset:
// the same paths, query parameters (list, get, create, update and delete
// options through a parameter codec), protobuf bodies with JSON accepted,
// user agent, rate limits and error values (*errors.StatusError of
// k8s.io/apimachinery/pkg/api/errors, so errors.IsNotFound and the like
// work on them).
package kubeclient

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// codecs is the scheme rotor's kinds are encoded and decoded with: Secret,
// SecretList, Event and EventList of core/v1, Lease and LeaseList of
// coordination.k8s.io/v1, the option kinds of both group versions, and
// Status (the body of an error).
var codecs = sync.OnceValue(func() *schemeCodecs {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	s.AddKnownTypes(corev1.SchemeGroupVersion, &corev1.Secret{}, &corev1.SecretList{}, &corev1.Event{}, &corev1.EventList{})
	metav1.AddToGroupVersion(s, corev1.SchemeGroupVersion)
	s.AddKnownTypes(coordinationv1.SchemeGroupVersion, &coordinationv1.Lease{}, &coordinationv1.LeaseList{})
	metav1.AddToGroupVersion(s, coordinationv1.SchemeGroupVersion)
	cf := serializer.NewCodecFactory(s)
	return &schemeCodecs{
		negotiated: rest.CodecFactoryForGeneratedClient(s, cf).WithoutConversion(),
		params:     runtime.NewParameterCodec(s),
	}
})

type schemeCodecs struct {
	negotiated runtime.NegotiatedSerializer
	params     runtime.ParameterCodec
}

// Client talks to one API server.
type Client struct {
	core  rest.Interface // /api/v1
	coord rest.Interface // /apis/coordination.k8s.io/v1
}

// New returns a client for the API server and credentials of cfg, with the
// defaults of kubernetes.NewForConfig: the user agent of client-go when
// cfg names none, and one connection pool for both API groups.
func New(cfg *rest.Config) (*Client, error) {
	c := *cfg
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	hc, err := rest.HTTPClientFor(&c)
	if err != nil {
		return nil, err
	}
	return NewForConfigAndClient(&c, hc)
}

// NewForConfigAndClient returns a client that sends its requests through
// hc, as kubernetes.NewForConfigAndClient does: with cfg.QPS set, the two
// API groups share one rate limiter; without, each has client-go's default
// (5 requests a second, bursts of 10).
func NewForConfigAndClient(cfg *rest.Config, hc *http.Client) (*Client, error) {
	c := *cfg
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, fmt.Errorf("burst is required to be greater than 0 when RateLimiter is not set and QPS is set to greater than 0")
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	hc = &http.Client{Transport: dateRecorder{base: hc.Transport}, CheckRedirect: hc.CheckRedirect, Jar: hc.Jar, Timeout: hc.Timeout}
	core, err := restClient(c, "/api", corev1.SchemeGroupVersion, hc)
	if err != nil {
		return nil, err
	}
	coord, err := restClient(c, "/apis", coordinationv1.SchemeGroupVersion, hc)
	if err != nil {
		return nil, err
	}
	return &Client{core: core, coord: coord}, nil
}

// WithServerDate returns a context whose requests, made through a Client,
// store in *at the time of the API server's answer, from its Date header
// (to the second; left alone when an answer has none). It reads the API
// server's clock: rotor compares a Lease's times with it, not with its
// own.
func WithServerDate(ctx context.Context, at *time.Time) context.Context {
	return context.WithValue(ctx, serverDateKey{}, at)
}

type serverDateKey struct{}

// dateRecorder is the transport of a Client: it keeps the Date of the
// answers to requests whose context asks for it.
type dateRecorder struct{ base http.RoundTripper }

func (d dateRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.transport().RoundTrip(r)
	if at, ok := r.Context().Value(serverDateKey{}).(*time.Time); ok && at != nil && err == nil {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			*at = t
		}
	}
	return resp, err
}

func (d dateRecorder) transport() http.RoundTripper {
	if d.base == nil {
		return http.DefaultTransport
	}
	return d.base
}

// CloseIdleConnections closes the idle connections of the transport below.
func (d dateRecorder) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := d.transport().(closer); ok {
		c.CloseIdleConnections()
	}
}

// WrappedRoundTripper is the transport below, for client-go's helpers
// that look through wrappers.
func (d dateRecorder) WrappedRoundTripper() http.RoundTripper { return d.transport() }

func restClient(c rest.Config, apiPath string, gv schema.GroupVersion, hc *http.Client) (*rest.RESTClient, error) {
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.NegotiatedSerializer = codecs().negotiated
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientForConfigAndClient(&c, hc)
}

// Secrets returns the Secrets of namespace ns.
func (c *Client) Secrets(ns string) *Resource[*corev1.Secret, *corev1.SecretList] {
	return newResource(c.core, "secrets", ns, func() *corev1.Secret { return &corev1.Secret{} },
		func() *corev1.SecretList { return &corev1.SecretList{} })
}

// Events returns the Events of namespace ns.
func (c *Client) Events(ns string) *Resource[*corev1.Event, *corev1.EventList] {
	return newResource(c.core, "events", ns, func() *corev1.Event { return &corev1.Event{} },
		func() *corev1.EventList { return &corev1.EventList{} })
}

// Leases returns the Leases of namespace ns.
func (c *Client) Leases(ns string) *Resource[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return newResource(c.coord, "leases", ns, func() *coordinationv1.Lease { return &coordinationv1.Lease{} },
		func() *coordinationv1.LeaseList { return &coordinationv1.LeaseList{} })
}

// Object is a kind a Resource reads and writes.
type Object interface {
	runtime.Object
	GetName() string
}

// Resource is one resource of one namespace, with the methods of client-go's
// typed clients that rotor uses.
type Resource[T Object, L runtime.Object] struct {
	c        rest.Interface
	resource string
	ns       string
	newObj   func() T
	newList  func() L
}

func newResource[T Object, L runtime.Object](c rest.Interface, resource, ns string, newObj func() T, newList func() L) *Resource[T, L] {
	return &Resource[T, L]{c: c, resource: resource, ns: ns, newObj: newObj, newList: newList}
}

// request starts a request on the resource, preferring protobuf as the
// generated clients of these kinds do.
func (r *Resource[T, L]) request(verb string) *rest.Request {
	return r.c.Verb(verb).UseProtobufAsDefault().Namespace(r.ns).Resource(r.resource)
}

// Get reads the object name.
func (r *Resource[T, L]) Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error) {
	out := r.newObj()
	err := r.request(http.MethodGet).Name(name).VersionedParams(&opts, codecs().params).Do(ctx).Into(out)
	return out, err
}

// List lists the objects that opts select, one page of them when opts set
// a Limit.
func (r *Resource[T, L]) List(ctx context.Context, opts metav1.ListOptions) (L, error) {
	var timeout time.Duration
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	out := r.newList()
	err := r.request(http.MethodGet).VersionedParams(&opts, codecs().params).Timeout(timeout).Do(ctx).Into(out)
	return out, err
}

// Create creates obj and returns it as the API server stored it.
func (r *Resource[T, L]) Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error) {
	out := r.newObj()
	err := r.request(http.MethodPost).VersionedParams(&opts, codecs().params).Body(obj).Do(ctx).Into(out)
	return out, err
}

// Update replaces the object of obj's name with obj, on the condition that
// obj's resourceVersion (when set) is still the stored one.
func (r *Resource[T, L]) Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error) {
	out := r.newObj()
	err := r.request(http.MethodPut).Name(obj.GetName()).VersionedParams(&opts, codecs().params).Body(obj).Do(ctx).Into(out)
	return out, err
}

// Delete deletes the object name, on opts' preconditions.
func (r *Resource[T, L]) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return r.request(http.MethodDelete).Name(name).Body(&opts).Do(ctx).Error()
}
