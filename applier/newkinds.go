package applier

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// A render may hold a CRD and objects of its kind (Helm charts do): the API server cannot map
// the kind before the CRD exists, so such objects are resolved from the CRD in the render
// (its group, plural, scope and versions), and their apply waits until the CRD is established
// — the CRD goes out in the first wave.

// renderedCRD is what a CRD in the render says about its kind.
type renderedCRD struct {
	name       string
	resource   string
	namespaced bool
	versions   []string
}

var crdGroupKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// crdsIn indexes the CRDs of a render by the kind they define.
func crdsIn(rendered []*unstructured.Unstructured) map[schema.GroupKind]renderedCRD {
	out := map[schema.GroupKind]renderedCRD{}
	for _, r := range rendered {
		if r.GroupVersionKind().GroupKind() != crdGroupKind {
			continue
		}
		group, _, _ := unstructured.NestedString(r.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(r.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(r.Object, "spec", "names", "plural")
		scope, _, _ := unstructured.NestedString(r.Object, "spec", "scope")
		versions, _, _ := unstructured.NestedSlice(r.Object, "spec", "versions")
		crd := renderedCRD{name: r.GetName(), resource: plural, namespaced: scope != "Cluster"}
		for _, v := range versions {
			m, _ := v.(map[string]any)
			if name, _ := m["name"].(string); name != "" && m["served"] != false {
				crd.versions = append(crd.versions, name)
			}
		}
		if kind != "" && plural != "" {
			out[schema.GroupKind{Group: group, Kind: kind}] = crd
		}
	}
	return out
}

// mappingFromRender resolves gvk from a CRD of the same render.
func mappingFromRender(crds map[schema.GroupKind]renderedCRD, gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, string, bool) {
	crd, ok := crds[gvk.GroupKind()]
	if !ok || !slices.Contains(crd.versions, gvk.Version) {
		return schema.GroupVersionResource{}, false, "", false
	}
	return schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: crd.resource}, crd.namespaced, crd.name, true
}

// establishedCRDs waits, once per CRD and Apply, until a CRD is established.
type establishedCRDs struct {
	m     *Manager
	mu    sync.Mutex
	waits map[string]*crdWait
}

type crdWait struct {
	once sync.Once
	err  error
}

// crdEstablishTimeout bounds the wait for a CRD applied in the same reconcile; past it the
// objects of its kind fail and are retried.
const crdEstablishTimeout = 30 * time.Second

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func (e *establishedCRDs) wait(ctx context.Context, name string) error {
	e.mu.Lock()
	if e.waits == nil {
		e.waits = map[string]*crdWait{}
	}
	w := e.waits[name]
	if w == nil {
		w = &crdWait{}
		e.waits[name] = w
	}
	e.mu.Unlock()
	w.once.Do(func() {
		w.err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, crdEstablishTimeout, true, func(ctx context.Context) (bool, error) {
			got, err := e.m.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil //nolint:nilerr // not there yet: polled until the timeout
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if w.err != nil {
			w.err = fmt.Errorf("CustomResourceDefinition/%s: not established: %w", name, w.err)
		}
	})
	return w.err
}
