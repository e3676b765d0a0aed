package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/localcluster"
)

var (
	siteGVR = schema.GroupVersionResource{Group: "example.bosun.dev", Version: "v1", Resource: "sites"}
	crdGVR  = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// Batches of Sites: "a" exists before bosun starts (and is updated and deleted), "b" is created
// while it runs, "cal" is the raw generator's calibration sample.
const (
	batchA   = "a"
	batchB   = "b"
	batchCal = "cal"
)

// setupConcurrency is how many requests the harness keeps in flight for its own setup work
// and for the user actions it times (creating, editing and deleting Sites).
const setupConcurrency = 32

// env is one fresh control plane with the Site CRD, the namespaces and room for the pods.
type env struct {
	name    string
	dir     string
	cluster *localcluster.Cluster
	cfg     *rest.Config // admin, straight to the API server, no client-side rate limit
	dyn     dynamic.Interface
	cs      kubernetes.Interface
	proxy   *countingProxy // nil without -proxy
	keep    bool
	// namespaces per batch
	namespaces int
	// siteCluster, when set (-clusters > 1), names the workload cluster of the i-th Site of
	// a batch, which createSites puts in its bosun.dev/cluster annotation.
	siteCluster func(i int) string
}

func (b *bench) startEnv(ctx context.Context, name string) (*env, error) {
	dir := filepath.Join(b.work, name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	b.logf("%s: starting control plane (etcd fsync %s) in %s", name, onOff(b.o.fsync), dir)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	c, err := localcluster.Start(sctx, localcluster.Options{
		Dir: dir, ControllerManager: true, Scheduler: true, Kwok: true, Fsync: b.o.fsync,
		Log: prefixWriter{b.log, name + ": "},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	e := &env{name: name, dir: dir, cluster: c, keep: b.o.keep, namespaces: b.o.namespaces}
	if err := e.setup(sctx, b); err != nil {
		e.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

func (e *env) setup(ctx context.Context, b *bench) error {
	e.cfg = unlimited(e.cluster.RESTConfig())
	var err error
	if e.dyn, err = dynamic.NewForConfig(e.cfg); err != nil {
		return err
	}
	if e.cs, err = kubernetes.NewForConfig(protobuf(e.cfg)); err != nil {
		return err
	}
	if err := e.installCRD(ctx, filepath.Join(b.root, "examples", "site", "crd.yaml")); err != nil {
		return err
	}
	if err := e.addNode(ctx); err != nil {
		return err
	}
	for _, batch := range []string{batchA, batchB, batchCal} {
		for i := range b.o.namespaces {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceOf(batch, i)}}
			if _, err := e.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("Namespace/%s: create: %w", ns.Name, err)
			}
		}
	}
	if b.o.proxy {
		if e.proxy, err = startProxy(e.cfg, filepath.Join(e.dir, "bosun.kubeconfig")); err != nil {
			return err
		}
	}
	return nil
}

// unlimited drops client-side throttling: the harness must never be the bottleneck.
func unlimited(cfg *rest.Config) *rest.Config {
	cfg.QPS = -1
	cfg.Burst = 0
	cfg.RateLimiter = nil
	cfg.UserAgent = "bosun-bench"
	return cfg
}

// protobuf is cfg speaking protobuf, for the typed clients: the tracker's watches of the
// children then cost the API server no JSON encoding of its own (bosun watches them as
// protobuf too, and the API server encodes an event once per format) and the harness little
// decoding.
func protobuf(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return cfg
}

// bosunKubeconfig is the kubeconfig bosun runs with: through the counting proxy if there is one.
func (e *env) bosunKubeconfig() string {
	if e.proxy != nil {
		return e.proxy.kubeconfig
	}
	return e.cluster.KubeconfigPath()
}

func (e *env) close() {
	if e.proxy != nil {
		e.proxy.close()
	}
	_ = e.cluster.Stop()
	if !e.keep {
		_ = os.RemoveAll(e.dir)
	}
}

func namespaceOf(batch string, i int) string { return fmt.Sprintf("bench-%s-%d", batch, i) }

// installCRD creates the CRD and waits until it is established and served by discovery.
func (e *env) installCRD(ctx context.Context, path string) error {
	if err := e.createCRD(ctx, path); err != nil {
		return err
	}
	return e.waitServed(ctx, siteGVR)
}

// createCRD creates the CustomResourceDefinition in the file at path.
func (e *env) createCRD(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &crd.Object); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := e.dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("CRD/%s: create: %w", crd.GetName(), err)
	}
	return nil
}

// waitServed waits until discovery lists gvr.
func (e *env) waitServed(ctx context.Context, gvr schema.GroupVersionResource) error {
	return poll(ctx, 200*time.Millisecond, func() (bool, error) {
		list, err := e.cs.Discovery().ServerResourcesForGroupVersion(gvr.GroupVersion().String())
		if err != nil {
			return false, nil
		}
		for _, r := range list.APIResources {
			if r.Name == gvr.Resource {
				return true, nil
			}
		}
		return false, nil
	})
}

// addNode registers a second kwok Node with room for every pod the run creates: the Node
// localcluster makes holds 1,000 pods, and every Site has a Deployment.
func (e *env) addNode(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("4Ti"),
		corev1.ResourcePods:   resource.MustParse("200000"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "bench-node",
			Annotations: map[string]string{localcluster.KwokNodeAnnotation: localcluster.KwokNodeValue},
			Labels:      map[string]string{"kubernetes.io/hostname": "bench-node", "kubernetes.io/os": "linux", "type": "kwok"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := e.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("Node/%s: create: %w", node.Name, err)
	}
	return poll(ctx, 500*time.Millisecond, func() (bool, error) {
		n, err := e.cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// siteName names the i-th Site of a batch; prefix keeps calibration samples apart.
func siteName(prefix string, i int) string { return fmt.Sprintf("%ssite-%05d", prefix, i) }

// createSites creates n Sites of a batch, round-robin over its namespaces (and, with
// siteCluster, naming its workload cluster), and returns them as the API server answered
// (with UID and resourceVersion), in order.
func (e *env) createSites(ctx context.Context, batch, prefix string, n, namespaces int) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, n)
	failed, err := forEach(ctx, n, setupConcurrency, func(ctx context.Context, i int) error {
		ns, name := namespaceOf(batch, i%namespaces), siteName(prefix, i)
		meta := map[string]any{"name": name, "namespace": ns}
		if e.siteCluster != nil {
			meta["annotations"] = map[string]any{config.AnnotationCluster: e.siteCluster(i)}
		}
		site := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": siteGVR.GroupVersion().String(),
			"kind":       "Site",
			"metadata":   meta,
			"spec":       map[string]any{"message": "hello from " + name},
		}}
		return retry(ctx, func() error {
			got, err := e.dyn.Resource(siteGVR).Namespace(ns).Create(ctx, site, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				got, err = e.dyn.Resource(siteGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			}
			out[i] = got
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("create %d Sites of batch %s: %d failed, first: %w", n, batch, failed, err)
	}
	return out, nil
}

// forEach calls fn for 0..n-1 from conc goroutines and returns how many calls failed and the
// first error. It stops handing out work when ctx ends.
func forEach(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) (int, error) {
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		first  error
	)
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					failed++
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return failed, first
}

// retry retries the harness's own setup requests a few times: a timeout or a 429 under load
// must not end a run.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 6 {
		if err = fn(); err == nil || apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 250 * time.Millisecond):
		}
	}
	return err
}

// poll calls cond every interval until it says done, returns an error, or ctx ends.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
