package watcher

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/bosun-dev/bosun/applier"
)

// statusless are kinds that kstatus always finds Current once they exist: reading them in full
// to learn that would cost a request for nothing.
var statusless = map[string]bool{
	"ConfigMap": true, "Secret": true, "ServiceAccount": true, "Role": true, "RoleBinding": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "NetworkPolicy": true, "LimitRange": true,
	"ResourceQuota": true, "PriorityClass": true, "StorageClass": true, "IngressClass": true,
	"Endpoints": true, "EndpointSlice": true, "Lease": true,
}

// healthChecker computes kstatus of children. The child cache holds metadata only, so a child
// is read in full when its resourceVersion differs from the one its status was computed for —
// after it changed — and never while it stays the same.
type healthChecker struct {
	dyn dynamic.Interface

	mu   sync.Mutex
	seen map[types.UID]health
}

type health struct {
	resourceVersion string
	status          status.Status
	message         string
}

func newHealthChecker(dyn dynamic.Interface) *healthChecker {
	return &healthChecker{dyn: dyn, seen: map[types.UID]health{}}
}

// check returns whether every planned child exists and is Current by kstatus rules, and
// otherwise a message naming the first child that is not. A child changed by this very
// reconcile is not ready yet, whatever its last status said: that status was of the previous
// version, and its controller has not seen the new one (the child's next event brings it).
func (h *healthChecker) check(ctx context.Context, p *applier.Plan, live map[applier.Ref]applier.Child, changed map[applier.Ref]bool) (bool, string, error) {
	for _, o := range p.Objects {
		c, ok := live[o.Ref]
		if !ok {
			return false, fmt.Sprintf("%s: waiting to be observed", o.Ref), nil
		}
		if statusless[o.Kind] && builtin(o.Group) {
			continue
		}
		if changed[o.Ref] {
			return false, fmt.Sprintf("%s: updated, waiting for its new status", o.Ref), nil
		}
		hs, err := h.of(ctx, c)
		if err != nil {
			return false, "", err
		}
		if hs.status != status.CurrentStatus {
			return false, fmt.Sprintf("%s: %s: %s", o.Ref, hs.status, hs.message), nil
		}
	}
	return true, "", nil
}

func (h *healthChecker) of(ctx context.Context, c applier.Child) (health, error) {
	h.mu.Lock()
	hs, ok := h.seen[c.UID]
	h.mu.Unlock()
	if ok && hs.resourceVersion == c.ResourceVersion {
		return hs, nil
	}
	r := h.dyn.Resource(c.Resource)
	var ri dynamic.ResourceInterface = r
	if c.Namespace != "" {
		ri = r.Namespace(c.Namespace)
	}
	// At least as new as the version the child cache saw, from the API server's watch cache:
	// no etcd read per status change of a child.
	obj, err := ri.Get(ctx, c.Name, metav1.GetOptions{ResourceVersion: c.ResourceVersion})
	if apierrors.IsNotFound(err) {
		return health{status: status.NotFoundStatus, message: "not found"}, nil
	}
	if err != nil {
		return health{}, fmt.Errorf("%s: get for status: %w", c.Ref, err)
	}
	res, err := status.Compute(obj)
	if err != nil {
		return health{}, fmt.Errorf("%s: compute status: %w", c.Ref, err)
	}
	hs = health{resourceVersion: obj.GetResourceVersion(), status: res.Status, message: res.Message}
	h.mu.Lock()
	h.seen[obj.GetUID()] = hs
	h.mu.Unlock()
	return hs, nil
}

// forget drops what is known of children that are gone.
func (h *healthChecker) forget(children []applier.Child) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range children {
		delete(h.seen, c.UID)
	}
}

func builtin(group string) bool {
	switch group {
	case "", "rbac.authorization.k8s.io", "networking.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
		"discovery.k8s.io", "coordination.k8s.io":
		return true
	}
	return false
}

// hasStatusSubresource asks discovery whether gvr has a status subresource.
func hasStatusSubresource(dc discovery.DiscoveryInterface, gvr schema.GroupVersionResource) (bool, error) {
	list, err := dc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/status" {
			return true, nil
		}
	}
	return false, nil
}
