package applier

import (
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Labels, annotations and the finalizer bosun writes. The applyset.kubernetes.io keys follow
// KEP-3659 so that other ApplySet-aware tools can read bosun's inventory.
const (
	FieldManager = "bosun"
	Finalizer    = "bosun.dev/cleanup"

	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "bosun"
	LabelOwnerUID  = "bosun.dev/owner-uid"
	// AnnotationOwner names the owner as apiVersion/kind/namespace/name, so an orphaned child
	// (its owner gone without bosun's cleanup) can be traced to the watch that made it.
	AnnotationOwner = "bosun.dev/owner"
	// AnnotationConfigHash records on a child the hash of the configuration bosun applied, so
	// that a restarted bosun knows an unchanged rendering without applying it again.
	AnnotationConfigHash = "bosun.dev/config-hash"
	// AnnotationTemplateHash records on the owner which template version rendered it last.
	AnnotationTemplateHash = "bosun.dev/template-hash"
	// AnnotationInstance records on the owner which bosun installation reconciles it (its
	// --instance), written with the finalizer: a bosun lets go, at start, only the owners that
	// it marked and no watch of its own covers any more, never another installation's.
	AnnotationInstance = "bosun.dev/instance"
	// AnnotationClusters records on the owner the clusters its children may be in, when they
	// are not (only) in the owner's own: there is no ownerReference across clusters, so this
	// and the kinds are what deleting the owner and moving its children rely on.
	AnnotationClusters = "bosun.dev/clusters"
	// LocalCluster names the cluster of the owner among an inventory's Clusters.
	LocalCluster = "local"

	LabelApplySetID                = "applyset.kubernetes.io/id"
	LabelApplySetPartOf            = "applyset.kubernetes.io/part-of"
	AnnotationApplySetTooling      = "applyset.kubernetes.io/tooling"
	AnnotationContainsGroupKinds   = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationAdditionalNamespaces = "applyset.kubernetes.io/additional-namespaces"
	ToolingValue                   = "bosun/v1"
)

// ApplySetID is the KEP-3659 identifier of the applyset whose parent is owner:
// applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1.
func ApplySetID(owner *unstructured.Unstructured) string {
	gvk := owner.GroupVersionKind()
	sum := sha256.Sum256([]byte(strings.Join([]string{owner.GetName(), owner.GetNamespace(), gvk.Kind, gvk.Group}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// Inventory is what an owner records about its children: the group-kinds they may have, the
// namespaces other than the owner's own that they may live in, and the clusters they may be in.
type Inventory struct {
	Kinds      []schema.GroupKind
	Namespaces []string
	// Clusters, sorted, name LocalCluster and the workload clusters; an owner that records
	// kinds but no clusters has its children in its own cluster (as before clusters existed).
	Clusters []string
}

// InventoryOf reads the inventory recorded on owner.
func InventoryOf(owner *unstructured.Unstructured) Inventory {
	ann := owner.GetAnnotations()
	var inv Inventory
	for _, s := range SplitList(ann[AnnotationContainsGroupKinds]) {
		inv.Kinds = append(inv.Kinds, schema.ParseGroupKind(s))
	}
	inv.Namespaces = SplitList(ann[AnnotationAdditionalNamespaces])
	inv.Clusters = SplitList(ann[AnnotationClusters])
	if len(inv.Clusters) == 0 && len(inv.Kinds) > 0 {
		inv.Clusters = []string{LocalCluster}
	}
	return inv.normalized()
}

// Union is the inventory that covers both i and o.
func (i Inventory) Union(o Inventory) Inventory {
	return Inventory{
		Kinds:      append(append([]schema.GroupKind{}, i.Kinds...), o.Kinds...),
		Namespaces: append(append([]string{}, i.Namespaces...), o.Namespaces...),
		Clusters:   append(append([]string{}, i.Clusters...), o.Clusters...),
	}.normalized()
}

// Equal reports whether both inventories name the same kinds and namespaces.
func (i Inventory) Equal(o Inventory) bool {
	return i.kindsText() == o.kindsText() && strings.Join(i.Namespaces, ",") == strings.Join(o.Namespaces, ",") &&
		i.clustersText() == o.clustersText()
}

// clustersText is the AnnotationClusters value: none while the children are all in the
// owner's own cluster.
func (i Inventory) clustersText() string {
	if len(i.Clusters) == 1 && i.Clusters[0] == LocalCluster {
		return ""
	}
	return strings.Join(i.Clusters, ",")
}

// In reports whether the inventory names the cluster.
func (i Inventory) In(cluster string) bool {
	for _, c := range i.Clusters {
		if c == cluster {
			return true
		}
	}
	return false
}

func (i Inventory) kindsText() string {
	s := make([]string, len(i.Kinds))
	for n, gk := range i.Kinds {
		s[n] = gk.String()
	}
	return strings.Join(s, ",")
}

// normalized sorts and de-duplicates, so equal inventories have equal annotation text.
func (i Inventory) normalized() Inventory {
	seen := map[schema.GroupKind]bool{}
	kinds := make([]schema.GroupKind, 0, len(i.Kinds))
	for _, gk := range i.Kinds {
		if !seen[gk] {
			seen[gk] = true
			kinds = append(kinds, gk)
		}
	}
	sort.Slice(kinds, func(a, b int) bool { return kinds[a].String() < kinds[b].String() })
	return Inventory{Kinds: kinds, Namespaces: sortedUnique(i.Namespaces), Clusters: sortedUnique(i.Clusters)}
}

// SplitList splits a comma-separated annotation value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// OwnerAnnotation is the value of AnnotationOwner for owner.
func OwnerAnnotation(owner *unstructured.Unstructured) string {
	return strings.Join([]string{owner.GetAPIVersion(), owner.GetKind(), owner.GetNamespace(), owner.GetName()}, "/")
}

// ParseOwnerAnnotation splits an AnnotationOwner value; ok is false when it is malformed.
func ParseOwnerAnnotation(v string) (gvk schema.GroupVersionKind, namespace, name string, ok bool) {
	parts := strings.Split(v, "/")
	if len(parts) < 4 || len(parts) > 5 {
		return schema.GroupVersionKind{}, "", "", false
	}
	n := len(parts)
	gv, err := schema.ParseGroupVersion(strings.Join(parts[:n-3], "/"))
	if err != nil || parts[n-3] == "" || parts[n-1] == "" {
		return schema.GroupVersionKind{}, "", "", false
	}
	return gv.WithKind(parts[n-3]), parts[n-2], parts[n-1], true
}
