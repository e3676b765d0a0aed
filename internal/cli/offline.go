package cli

import (
	"github.com/bosun-dev/bosun/internal/kinds"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/shard"
)

// The commands that work without a cluster (render, check, rbac) cannot ask discovery what
// resource a kind is served as and whether it is namespaced. They know the built-in kinds
// below exactly, and guess for every other kind: namespaced, and the resource named by
// pluralize.

// builtinKind is a built-in kind's resource, scope and whether it has a status subresource.

// offlineResource is the resource and scope of gk without asking a cluster; guessed is true
// when gk is not a known built-in kind and both were guessed.
func offlineResource(gk schema.GroupKind) (resource string, namespaced, guessed bool) {
	if b, ok := kinds.Lookup(gk); ok {
		return b.Resource, !b.ClusterScoped, false
	}
	return pluralize(gk.Kind), true, true
}

// offlineHasStatus reports whether gk has a status subresource: exact for the built-in kinds,
// true for every other kind (custom resources usually have one).
func offlineHasStatus(gk schema.GroupKind) bool {
	if b, ok := kinds.Lookup(gk); ok {
		return b.StatusSubresource
	}
	return true
}

// defaultNamespace puts an owner that has no namespace into ns, or "default", when its kind
// is namespaced (taken to be for a kind that is not built in), as kubectl apply would.
func defaultNamespace(obj *unstructured.Unstructured, ns string) {
	if obj.GetNamespace() != "" {
		return
	}
	if _, namespaced, _ := offlineResource(obj.GroupVersionKind().GroupKind()); !namespaced {
		return
	}
	if ns == "" {
		ns = "default"
	}
	obj.SetNamespace(ns)
}

// pluralize guesses the resource of a kind as CRDs conventionally name it: the kind in lower
// case, with "es" after s, x, z, ch and sh, "ies" for a consonant and y, and "s" otherwise
// (Site → sites, Gateway → gateways, Policy → policies, Ingress → ingresses). A CRD may declare
// any plural (spec.names.plural); the commands that guess say so.
func pluralize(kind string) string {
	s := strings.ToLower(kind)
	switch {
	case s == "":
		return s
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "z"),
		strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

// offlinePlan is applier.Plan with the kinds resolved offline: the children exactly as bosun
// would apply them (namespace defaulted, child policy checked, ignored fields dropped, labels,
// annotations and ownerReference added), except that a custom kind is taken to be namespaced.
func offlinePlan(owner *unstructured.Unstructured, rendered []*unstructured.Unstructured, policy applier.Policy, remote bool) (*applier.Plan, error) {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, r := range rendered {
		gvk := r.GroupVersionKind()
		resource, namespaced, _ := offlineResource(gvk.GroupKind())
		scope := meta.RESTScopeRoot
		if namespaced {
			scope = meta.RESTScopeNamespace
		}
		singular := gvk.GroupVersion().WithResource(strings.ToLower(gvk.Kind))
		mapper.AddSpecific(gvk, gvk.GroupVersion().WithResource(resource), singular, scope)
	}
	// Plan reads nothing from the cluster: it only needs the mapper.
	return applier.New(nil, nil, mapper, applier.Options{OwnerLabels: shard.ChildLabels(), Remote: remote}).Plan(owner, rendered, policy)
}
