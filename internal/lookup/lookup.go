package lookup

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bosun-dev/bosun/applier"
)

// Reader reads objects for lookup on behalf of owners.
type Reader struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
	// Policy is the watch's child policy: where lookup may read at all.
	Policy applier.Policy
	// Kinds are the kinds lookup may read outside the owner's namespace; empty means every
	// kind but Secret (the watch's lookup.kinds).
	Kinds []schema.GroupKind
}

var secretKind = schema.GroupKind{Kind: "Secret"}

// Lookup has renderer.LookupFunc's signature: one object when name is set, else a list; a
// missing object or kind is an empty map and no error, as Helm's lookup has it.
func (r *Reader) Lookup(ctx context.Context, owner *unstructured.Unstructured, apiVersion, kind, namespace, name string) (map[string]any, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("lookup %s %s: %w", apiVersion, kind, err)
	}
	mapping, err := r.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if meta.IsNoMatchError(err) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup %s %s: %w", apiVersion, kind, err)
	}
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	if err := r.allowed(owner, mapping.GroupVersionKind.GroupKind(), namespaced, namespace); err != nil {
		return nil, fmt.Errorf("lookup %s %s %q in namespace %q: %w", apiVersion, kind, name, namespace, err)
	}
	var ri dynamic.ResourceInterface = r.Dynamic.Resource(mapping.Resource)
	if namespaced && namespace != "" {
		ri = r.Dynamic.Resource(mapping.Resource).Namespace(namespace)
	}
	if name != "" {
		obj, err := ri.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return map[string]any{}, nil
		case err != nil:
			return nil, fmt.Errorf("lookup %s %s/%s: %w", kind, namespace, name, err)
		}
		return obj.UnstructuredContent(), nil
	}
	list, err := ri.List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return map[string]any{}, nil
	case err != nil:
		return nil, fmt.Errorf("lookup %s in %q: %w", kind, namespace, err)
	}
	return list.UnstructuredContent(), nil
}

// allowed applies the child policy to a read: the owner's namespace, the policy's
// namespaces, and cluster-scoped kinds only when the policy allows cluster-scoped children;
// outside the owner's namespace, only the kinds of lookup.kinds (by default, all but Secrets).
func (r *Reader) allowed(owner *unstructured.Unstructured, gk schema.GroupKind, namespaced bool, namespace string) error {
	if err := r.allowedWhere(owner, namespaced, namespace); err != nil {
		return err
	}
	if namespaced && namespace != "" && namespace == owner.GetNamespace() {
		return nil
	}
	switch {
	case len(r.Kinds) == 0 && gk == secretKind:
		return fmt.Errorf("Secrets are read only in the owner's namespace (the watch's lookup.kinds does not name Secret)")
	case len(r.Kinds) > 0 && !slices.Contains(r.Kinds, gk):
		return fmt.Errorf("%s is read only in the owner's namespace (the watch's lookup.kinds does not name it)", kindName(gk))
	}
	return nil
}

func kindName(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

func (r *Reader) allowedWhere(owner *unstructured.Unstructured, namespaced bool, namespace string) error {
	switch {
	case !namespaced && !r.Policy.ClusterScoped:
		return fmt.Errorf("cluster-scoped kinds may not be read (children.clusterScoped is off)")
	case !namespaced:
		return nil
	case namespace == "" && !r.Policy.AllowsNamespace(applier.AnyNamespace):
		return fmt.Errorf("reading every namespace is not allowed (children.namespaces does not hold %q)", applier.AnyNamespace)
	case namespace == "" || namespace == owner.GetNamespace() || r.Policy.AllowsNamespace(namespace):
		return nil
	}
	return fmt.Errorf("namespace %s is not the owner's and not in the watch's children.namespaces", namespace)
}
