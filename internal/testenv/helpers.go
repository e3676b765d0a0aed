package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager ApplyYAML applies with.
const FieldManager = "testenv"

// mappingTimeout is how long ApplyYAML waits for a kind to be served, which covers a custom
// resource applied right after its CRD.
const mappingTimeout = 30 * time.Second

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Eventually calls f every 100ms until it returns nil and fails the test with f's last error
// if that does not happen within timeout.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	if err := poll(timeout, f); err != nil {
		t.Fatalf("eventually: %v", err)
	}
}

func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ApplyYAML server-side applies every object of a multi-document YAML (or JSON) stream, in
// order, creating what does not exist. Namespaced objects without a namespace go to
// "default". It returns the objects as the server stored them.
func ApplyYAML(t testing.TB, cfg *rest.Config, manifests string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := applyYAML(context.Background(), cfg, manifests)
	if err != nil {
		t.Fatalf("apply yaml: %v", err)
	}
	return objs
}

func applyYAML(ctx context.Context, cfg *rest.Config, manifests string) ([]*unstructured.Unstructured, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var applied []*unstructured.Unstructured
	for i := 0; ; i++ {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return applied, nil
		} else if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		out, err := applyOne(ctx, mapper, dyn, obj)
		if err != nil {
			return nil, err
		}
		applied = append(applied, out)
	}
}

func applyOne(ctx context.Context, mapper *restmapper.DeferredDiscoveryRESTMapper, dyn dynamic.Interface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	ref := gvk.Kind + "/" + obj.GetName()
	var mapping *meta.RESTMapping
	err := poll(mappingTimeout, func() error {
		var err error
		mapping, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			// Discovery is cached; a CRD applied a moment ago shows only after a reset.
			mapper.Reset()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(metav1.NamespaceDefault)
		}
		ref = gvk.Kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
		ri = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	}
	out, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("%s: apply: %w", ref, err)
	}
	return out, nil
}

// WaitCRDEstablished waits until the CustomResourceDefinition name (plural.group) is
// Established, that is, its custom resources are served.
func WaitCRDEstablished(t testing.TB, cfg *rest.Config, name string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("CustomResourceDefinition/%s: %v", name, err)
	}
	Eventually(t, mappingTimeout, func() error {
		crd, err := dyn.Resource(crdGVR).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			c, _ := c.(map[string]any)
			if c["type"] == "Established" && c["status"] == "True" {
				return nil
			}
		}
		return fmt.Errorf("CustomResourceDefinition/%s: not Established: %v", name, conds)
	})
}
