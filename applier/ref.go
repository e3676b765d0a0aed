package applier

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Ref names one child independent of its API version.
type Ref struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// GroupKind returns the group-kind of the child.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// String is Kind/namespace/name (Kind/name for cluster-scoped children), the prefix of every
// error about this child.
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Child is a child as it exists in the cluster, known by its metadata only.
type Child struct {
	Ref
	Resource        schema.GroupVersionResource
	UID             types.UID
	ResourceVersion string
	Generation      int64
	Labels          map[string]string
	Annotations     map[string]string
	// Shape is ManagedShape of bosun's managedFields entry; "" when unknown.
	Shape string
	// Deleting is true once the child has a deletionTimestamp.
	Deleting bool
}

func (c Child) String() string { return c.Ref.String() }

// Action is what happened to one child.
type Action string

// The actions of a ChangeSet entry.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Skipped    Action = "skipped" // not sent: rendered the same and not changed since the last apply
	Pruned     Action = "pruned"
	Deleted    Action = "deleted"
	Recreated  Action = "recreated" // deleted and created again: an immutable field changed
	Kept       Action = "kept"      // not deleted (helm.sh/resource-policy: keep): let go instead
)

// Change is one entry of a ChangeSet.
type Change struct {
	Ref    Ref
	Action Action
	// Answer is the object as the API server answered an apply (nil when none was sent), so
	// that its health can be told without waiting for the watch to bring it.
	Answer *unstructured.Unstructured
}

func (c Change) String() string { return fmt.Sprintf("%s %s", c.Ref, c.Action) }

// ChangeSet lists what one call did, in the order it did it.
type ChangeSet []Change
