package applier

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// permissive allows every child, to test planning apart from the policy.
var permissive = Policy{Namespaces: []string{AnyNamespace}, ClusterScoped: true}

func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	add := func(group, version, kind, resource string, scope meta.RESTScope) {
		m.AddSpecific(schema.GroupVersionKind{Group: group, Version: version, Kind: kind},
			schema.GroupVersionResource{Group: group, Version: version, Resource: resource},
			schema.GroupVersionResource{Group: group, Version: version, Resource: resource[:len(resource)-1]}, scope)
	}
	add("", "v1", "ConfigMap", "configmaps", meta.RESTScopeNamespace)
	add("", "v1", "Service", "services", meta.RESTScopeNamespace)
	add("", "v1", "Namespace", "namespaces", meta.RESTScopeRoot)
	add("apps", "v1", "Deployment", "deployments", meta.RESTScopeNamespace)
	add("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", meta.RESTScopeRoot)
	add("example.bosun.dev", "v1", "Widget", "widgets", meta.RESTScopeNamespace)
	return m
}

func obj(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	u.SetName(name)
	if namespace != "" {
		u.SetNamespace(namespace)
	}
	return u
}

func testOwner() *unstructured.Unstructured {
	o := obj("example.bosun.dev/v1", "Site", "team-a", "web")
	o.SetUID("0000-1111")
	return o
}

func TestPlanPreparesChildren(t *testing.T) {
	bucket := func(uid types.UID) string { return "b-" + string(uid) }
	m := New(nil, nil, testMapper(), Options{OwnerLabels: map[string]func(types.UID) string{"example.dev/bucket": bucket}})
	owner := testOwner()
	p, err := m.Plan(owner, []*unstructured.Unstructured{
		obj("example.bosun.dev/v1", "Widget", "", "w"),
		obj("apps/v1", "Deployment", "", "web"),
		obj("v1", "ConfigMap", "team-b", "shared"),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "ignored", "reader"),
		obj("v1", "Namespace", "", "team-c"),
	}, permissive)
	if err != nil {
		t.Fatal(err)
	}

	var order []string
	for _, o := range p.Objects {
		order = append(order, o.Ref.String())
	}
	wantOrder := []string{"Namespace/team-c", "ConfigMap/team-b/shared", "ClusterRole/reader", "Deployment/team-a/web", "Widget/team-a/w"}
	if d := cmp.Diff(wantOrder, order); d != "" {
		t.Errorf("apply order (-want +got):\n%s", d)
	}

	wantInv := Inventory{
		Kinds: []schema.GroupKind{
			{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, {Kind: "ConfigMap"},
			{Group: "apps", Kind: "Deployment"}, {Kind: "Namespace"}, {Group: "example.bosun.dev", Kind: "Widget"},
		},
		Namespaces: []string{"team-b"},
	}
	if d := cmp.Diff(wantInv, p.Inventory); d != "" {
		t.Errorf("inventory (-want +got):\n%s", d)
	}

	byName := map[string]*unstructured.Unstructured{}
	for _, o := range p.Objects {
		byName[o.Name] = o.Object
	}
	wantLabels := map[string]string{LabelManagedBy: "bosun", LabelOwnerUID: "0000-1111", "example.dev/bucket": "b-0000-1111", LabelApplySetPartOf: ApplySetID(owner)}
	for name, o := range byName {
		if d := cmp.Diff(wantLabels, o.GetLabels()); d != "" {
			t.Errorf("%s labels (-want +got):\n%s", name, d)
		}
	}
	if ns := byName["reader"].GetNamespace(); ns != "" {
		t.Errorf("cluster-scoped child kept namespace %q", ns)
	}
	if ns := byName["web"].GetNamespace(); ns != "team-a" {
		t.Errorf("child without namespace got %q, want the owner's team-a", ns)
	}
	wantRef := []metav1.OwnerReference{{APIVersion: "example.bosun.dev/v1", Kind: "Site", Name: "web", UID: "0000-1111", Controller: new(true), BlockOwnerDeletion: new(true)}}
	if d := cmp.Diff(wantRef, byName["web"].GetOwnerReferences()); d != "" {
		t.Errorf("same-namespace child ownerReferences (-want +got):\n%s", d)
	}
	for _, name := range []string{"shared", "reader", "team-c"} {
		if refs := byName[name].GetOwnerReferences(); len(refs) != 0 {
			t.Errorf("%s: ownerReference %v across namespaces would be ignored by the garbage collector", name, refs)
		}
	}
}

func TestPlanLeavesRenderedObjectsAlone(t *testing.T) {
	m := New(nil, nil, testMapper(), Options{})
	in := obj("v1", "ConfigMap", "", "c")
	if _, err := m.Plan(testOwner(), []*unstructured.Unstructured{in}, permissive); err != nil {
		t.Fatal(err)
	}
	if in.GetNamespace() != "" || in.GetLabels() != nil {
		t.Errorf("Plan modified its input: %v", in.Object)
	}
}

func TestPlanHashChangesWithContentOnly(t *testing.T) {
	m := New(nil, nil, testMapper(), Options{})
	plan := func(value string) string {
		c := obj("v1", "ConfigMap", "", "c")
		c.Object["data"] = map[string]any{"k": value}
		p, err := m.Plan(testOwner(), []*unstructured.Unstructured{c}, permissive)
		if err != nil {
			t.Fatal(err)
		}
		return p.Objects[0].Hash
	}
	if plan("a") != plan("a") {
		t.Error("the same rendering hashed differently")
	}
	if plan("a") == plan("b") {
		t.Error("different renderings hashed the same")
	}
}

func TestPlanRejects(t *testing.T) {
	cases := []struct {
		name    string
		owner   *unstructured.Unstructured
		objects []*unstructured.Unstructured
		want    string
	}{
		{
			name:    "the same child rendered twice",
			owner:   testOwner(),
			objects: []*unstructured.Unstructured{obj("v1", "ConfigMap", "", "c"), obj("v1", "ConfigMap", "team-a", "c")},
			want:    "ConfigMap/team-a/c: rendered more than once",
		},
		{
			name:    "a namespaced child of a cluster-scoped owner without a namespace",
			owner:   obj("v1", "Namespace", "", "team-x"),
			objects: []*unstructured.Unstructured{obj("v1", "ConfigMap", "", "c")},
			want:    "ConfigMap/c: a namespaced child of a cluster-scoped owner needs metadata.namespace",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(nil, nil, testMapper(), Options{}).Plan(tc.owner, tc.objects, permissive)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPlanUnknownKindIsTyped(t *testing.T) {
	_, err := New(nil, nil, testMapper(), Options{}).Plan(testOwner(), []*unstructured.Unstructured{obj("nope.dev/v1", "Thing", "", "t")}, permissive)
	var unknown *UnknownKindError
	if !errors.As(err, &unknown) || unknown.GVK.Kind != "Thing" {
		t.Fatalf("error = %v, want an UnknownKindError for Thing", err)
	}
}

func TestInventoryRoundTrip(t *testing.T) {
	owner := testOwner()
	owner.SetAnnotations(map[string]string{
		AnnotationContainsGroupKinds:   "Service,Deployment.apps, ConfigMap,Service",
		AnnotationAdditionalNamespaces: "b,a",
	})
	got := InventoryOf(owner)
	want := Inventory{Kinds: []schema.GroupKind{{Kind: "ConfigMap"}, {Group: "apps", Kind: "Deployment"}, {Kind: "Service"}}, Namespaces: []string{"a", "b"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("InventoryOf (-want +got):\n%s", d)
	}
	if got.kindsText() != "ConfigMap,Deployment.apps,Service" {
		t.Errorf("kindsText = %q", got.kindsText())
	}
	union := got.Union(Inventory{Kinds: []schema.GroupKind{{Kind: "Secret"}, {Kind: "Service"}}})
	if !union.Equal(Inventory{Kinds: []schema.GroupKind{{Kind: "Secret"}, {Kind: "ConfigMap"}, {Group: "apps", Kind: "Deployment"}, {Kind: "Service"}}, Namespaces: []string{"b", "a"}}.normalized()) {
		t.Errorf("union = %+v", union)
	}
}

func TestApplySetIDFollowsKEP3659(t *testing.T) {
	// The KEP's example: base64url(sha256("<name>.<namespace>.<kind>.<group>")).
	o := obj("v1", "Secret", "myns", "mysecret")
	// Computed independently: printf 'mysecret.myns.Secret.' | openssl dgst -sha256 -binary | base64url
	want := "applyset-A4JOA0Nu9IALV64lUktCtYHwWVLeGXDK9cxB9xiZbYU-v1"
	if got := ApplySetID(o); got != want {
		t.Errorf("ApplySetID = %q, want %q", got, want)
	}
}

func TestPlanEnforcesTheChildPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy Policy
		child  *unstructured.Unstructured
		want   string // "" = allowed
	}{
		{"a child in the owner's namespace is allowed by default", Policy{}, obj("v1", "ConfigMap", "", "c"), ""},
		{"a cluster-scoped child is refused by default", Policy{}, obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "admin"),
			"ClusterRole/admin: refused: cluster-scoped children are not allowed (children.clusterScoped)"},
		{"a cluster-scoped child is allowed when opted in", Policy{ClusterScoped: true}, obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "admin"), ""},
		{"a child in another namespace is refused by default", Policy{}, obj("v1", "ConfigMap", "kube-system", "c"),
			"ConfigMap/kube-system/c: refused: namespace kube-system is not the owner's and not in the watch's children.namespaces"},
		{"a child in a listed namespace is allowed", Policy{Namespaces: []string{"shared"}}, obj("v1", "ConfigMap", "shared", "c"), ""},
		{"a kind outside children.kinds is refused", Policy{Kinds: []schema.GroupKind{{Kind: "ConfigMap"}}}, obj("apps/v1", "Deployment", "", "d"),
			"Deployment/team-a/d: refused: kind Deployment.apps is not among the watch's children.kinds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(nil, nil, testMapper(), Options{}).Plan(testOwner(), []*unstructured.Unstructured{tc.child}, tc.policy)
			got := ""
			if err != nil {
				got = err.Error()
				var pe *PolicyError
				if !errors.As(err, &pe) {
					t.Errorf("error %v is not a *PolicyError", err)
				}
			}
			if got != tc.want {
				t.Errorf("error = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanLeavesIgnoredFieldsToOthers(t *testing.T) {
	d := obj("apps/v1", "Deployment", "", "web")
	d.Object["spec"] = map[string]any{"replicas": int64(2), "paused": false}
	policy := Policy{Ignored: map[schema.GroupKind][][]string{{Group: "apps", Kind: "Deployment"}: {{"spec", "replicas"}}}}
	p, err := New(nil, nil, testMapper(), Options{}).Plan(testOwner(), []*unstructured.Unstructured{d}, policy)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"paused": false}, p.Objects[0].Object.Object["spec"]); d != "" {
		t.Errorf("spec sent to the API server (-want +got):\n%s", d)
	}
}

func TestOwnerAnnotationRoundTrip(t *testing.T) {
	for _, owner := range []*unstructured.Unstructured{testOwner(), obj("v1", "Namespace", "", "team-x"), obj("v1", "ConfigMap", "ns", "c")} {
		v := OwnerAnnotation(owner)
		gvk, ns, name, ok := ParseOwnerAnnotation(v)
		if !ok || gvk != owner.GroupVersionKind() || ns != owner.GetNamespace() || name != owner.GetName() {
			t.Errorf("ParseOwnerAnnotation(%q) = %v %q %q %v", v, gvk, ns, name, ok)
		}
	}
	for _, bad := range []string{"", "a/b", "v1/ConfigMap/ns/", "x/y/z/v1/Kind/ns/n"} {
		if _, _, _, ok := ParseOwnerAnnotation(bad); ok {
			t.Errorf("ParseOwnerAnnotation(%q) accepted a malformed value", bad)
		}
	}
}
