package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/testenv"
)

var (
	widgetGVR    = schema.GroupVersionResource{Group: "e2e.bosun.dev", Version: "v1", Resource: "widgets"}
	configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

const (
	// waitTimeout bounds waits that involve no fault.
	waitTimeout = 60 * time.Second
	// requestTimeout bounds each request of the test's own polling, which must not hang
	// while etcd is away.
	requestTimeout = 5 * time.Second
	// creators is how many goroutines create owners at once.
	creators = 8
)

// childSuffixes are what testdata/three-configmaps appends to an owner's name, one ConfigMap
// each.
var childSuffixes = []string{"a", "b", "c"}

// wantChildren is the sorted names of the ConfigMaps bosun renders for the owner.
func wantChildren(owner string) []string {
	names := make([]string, len(childSuffixes))
	for i, s := range childSuffixes {
		names[i] = owner + "-" + s
	}
	return names
}

// installWidgetCRD installs the Widget CRD of the e2e tests (an idempotent apply).
func installWidgetCRD(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile("../testdata/widget/crd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testenv.ApplyYAML(t, env.RESTConfig(), string(data))
	testenv.WaitCRDEstablished(t, env.RESTConfig(), "widgets.e2e.bosun.dev")
}

// writeWatch writes a watch config for Widgets rendered by testdata/three-configmaps.
func writeWatch(t *testing.T, workers int) string {
	t.Helper()
	templates, err := filepath.Abs("testdata/three-configmaps")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "watch.yaml")
	body := fmt.Sprintf(`
name: widgets
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
workers: %d
resync: 0s
`, templates, workers)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ownerNames returns n owner names: prefix-000, prefix-001, ...
func ownerNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return names
}

// createOwners creates a Widget for every name, several at once.
func createOwners(t *testing.T, namespace string, names []string) {
	t.Helper()
	work := make(chan string)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for range min(creators, len(names)) {
		wg.Go(func() {
			for name := range work {
				errs <- createOwner(namespace, name)
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		t.Fatal(err)
	}
}

// createOwner creates one Widget, retrying for a while: right after an outage the API server
// may answer ready before its writes to etcd go through again. A create that timed out on
// this side may still have happened, so AlreadyExists on a retry is success.
func createOwner(namespace, name string) error {
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "e2e.bosun.dev/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       map[string]any{"color": "green"},
	}}
	deadline := time.Now().Add(waitTimeout)
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		_, err := env.Dynamic.Resource(widgetGVR).Namespace(namespace).Create(ctx, w, metav1.CreateOptions{})
		cancel()
		switch {
		case err == nil, attempt > 0 && apierrors.IsAlreadyExists(err):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("Widget/%s/%s: create: %w", namespace, name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// view reads the owners of one namespace and bosun's children of them, metadata only.
type view struct {
	meta      metadata.Interface
	namespace string
}

func newView(t *testing.T, namespace string) *view {
	t.Helper()
	m, err := metadata.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &view{meta: m, namespace: namespace}
}

// state is one reading of the owners and their children.
type state struct {
	owners []metav1.PartialObjectMetadata
	// children are the ConfigMaps with bosun's owner-uid label, by that label.
	children map[types.UID][]metav1.PartialObjectMetadata
}

// read lists the owners and children; it fails (for the caller to retry) while the control
// plane is away.
func (v *view) read() (*state, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	owners, err := v.meta.Resource(widgetGVR).Namespace(v.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Widgets: %w", err)
	}
	kids, err := v.meta.Resource(configMapGVR).Namespace(v.namespace).List(ctx, metav1.ListOptions{LabelSelector: applier.LabelOwnerUID})
	if err != nil {
		return nil, fmt.Errorf("list ConfigMaps: %w", err)
	}
	s := &state{owners: owners.Items, children: map[types.UID][]metav1.PartialObjectMetadata{}}
	for _, k := range kids.Items {
		uid := types.UID(k.Labels[applier.LabelOwnerUID])
		s.children[uid] = append(s.children[uid], k)
	}
	return s, nil
}

// mustRead is read for when the control plane is up.
func (v *view) mustRead(t *testing.T) *state {
	t.Helper()
	s, err := v.read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *state) childCount() int {
	n := 0
	for _, kids := range s.children {
		n += len(kids)
	}
	return n
}

// converged says why the owner is not converged: it must carry bosun's finalizer and have
// exactly the children its templates render, each once.
func (s *state) converged(o metav1.PartialObjectMetadata) error {
	if !slices.Contains(o.Finalizers, applier.Finalizer) {
		return fmt.Errorf("Widget/%s: finalizers %v lack %s", o.Name, o.Finalizers, applier.Finalizer)
	}
	var got []string
	for _, k := range s.children[o.UID] {
		got = append(got, k.Name)
	}
	slices.Sort(got)
	if diff := cmp.Diff(wantChildren(o.Name), got); diff != "" {
		return fmt.Errorf("Widget/%s: ConfigMaps labelled with its UID (-want +got):\n%s", o.Name, diff)
	}
	return nil
}

func (s *state) convergedOwners() []metav1.PartialObjectMetadata {
	var out []metav1.PartialObjectMetadata
	for _, o := range s.owners {
		if s.converged(o) == nil {
			out = append(out, o)
		}
	}
	return out
}

// problems says why the namespace is not converged: it must hold wantOwners owners, each
// converged, and no child of an owner it does not hold.
func (s *state) problems(wantOwners int) error {
	var errs []error
	if len(s.owners) != wantOwners {
		errs = append(errs, fmt.Errorf("%d Widgets, want %d", len(s.owners), wantOwners))
	}
	known := map[types.UID]bool{}
	notConverged := 0
	for _, o := range s.owners {
		known[o.UID] = true
		if err := s.converged(o); err != nil {
			notConverged++
			if notConverged <= 3 {
				errs = append(errs, err)
			}
		}
	}
	if notConverged > 3 {
		errs = append(errs, fmt.Errorf("and %d more Widgets not converged", notConverged-3))
	}
	for uid, kids := range s.children {
		if !known[uid] {
			errs = append(errs, fmt.Errorf("%d ConfigMaps (%s, ...) are labelled with owner UID %s, which no Widget has", len(kids), kids[0].Name, uid))
		}
	}
	return errors.Join(errs...)
}

// versions maps the name of every child of the owners to its resourceVersion.
func (s *state) versions(owners []metav1.PartialObjectMetadata) map[string]string {
	out := map[string]string{}
	for _, o := range owners {
		for _, k := range s.children[o.UID] {
			out[k.Name] = k.ResourceVersion
		}
	}
	return out
}

// runner is a bosun run, in-process or not, that must keep running.
type runner interface {
	CheckRunning(t *testing.T)
}

// waitConverged waits until the namespace holds wantOwners converged owners and nothing else
// of bosun's, ignoring read errors meanwhile. It fails at once when one of the runs ended.
func waitConverged(t *testing.T, v *view, wantOwners int, timeout time.Duration, runs ...runner) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, r := range runs {
			r.CheckRunning(t)
		}
		s, err := v.read()
		if err != nil {
			return err
		}
		return s.problems(wantOwners)
	})
}
