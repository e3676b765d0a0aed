package watcher

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
)

// TestCheckHealthJudgesAppliedChildrenByTheAnswer: a child this reconcile applied is judged
// by the API server's answer, before the cache echoes it; the others by the cache, and one in
// neither is waited for.
func TestCheckHealthJudgesAppliedChildrenByTheAnswer(t *testing.T) {
	cm := applier.Ref{Kind: "ConfigMap", Namespace: "ns", Name: "a"}
	svc := applier.Ref{Kind: "Service", Namespace: "ns", Name: "a"}
	dep := applier.Ref{Group: "apps", Kind: "Deployment", Namespace: "ns", Name: "a"}
	obj := func(r applier.Ref, apiVersion string, o map[string]any) *unstructured.Unstructured {
		o["apiVersion"], o["kind"] = apiVersion, r.Kind
		o["metadata"] = map[string]any{"name": r.Name, "namespace": r.Namespace, "generation": int64(2)}
		return &unstructured.Unstructured{Object: o}
	}
	clusterIP := obj(svc, "v1", map[string]any{"spec": map[string]any{"type": "ClusterIP"}})
	loadBalancer := obj(svc, "v1", map[string]any{"spec": map[string]any{"type": "LoadBalancer"}})
	newSpec := obj(dep, "apps/v1", map[string]any{"spec": map[string]any{"replicas": int64(1)},
		"status": map[string]any{"observedGeneration": int64(1), "replicas": int64(1), "readyReplicas": int64(1),
			"availableReplicas": int64(1), "updatedReplicas": int64(1)}})
	plan := func(refs ...applier.Ref) *applier.Plan {
		p := &applier.Plan{}
		for _, r := range refs {
			p.Objects = append(p.Objects, applier.Object{Ref: r})
		}
		return p
	}
	answers := func(objs ...*unstructured.Unstructured) applier.ChangeSet {
		var cs applier.ChangeSet
		for _, o := range objs {
			cs = append(cs, applier.Change{Ref: applier.Ref{Group: o.GroupVersionKind().Group, Kind: o.GetKind(),
				Namespace: o.GetNamespace(), Name: o.GetName()}, Action: applier.Created, Answer: o})
		}
		return cs
	}
	none := map[applier.Ref]applier.Child{}
	current := map[applier.Ref]applier.Child{dep: {Ref: dep, Annotations: map[string]string{healthKey: "Current"}}}
	for _, tc := range []struct {
		name    string
		plan    *applier.Plan
		live    map[applier.Ref]applier.Child
		changes applier.ChangeSet
		ready   bool
		waiting string
	}{
		{"created, not cached yet", plan(cm, svc), none, answers(obj(cm, "v1", map[string]any{}), clusterIP), true, ""},
		{"a load balancer waits for its address", plan(svc), none, answers(loadBalancer), false, "Service/ns/a: InProgress"},
		{"one not applied, not cached", plan(cm, svc), none, answers(obj(cm, "v1", map[string]any{})), false, "Service/ns/a: waiting to be observed"},
		{"skipped, cached", plan(cm), map[applier.Ref]applier.Child{cm: {Ref: cm}}, nil, true, ""},
		{"a new spec not observed yet", plan(dep), current, answers(newSpec), false, "Deployment/ns/a: InProgress"},
		{"skipped, cached current", plan(dep), current, nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, waiting := checkHealth(tc.plan, tc.live, answeredHealth(tc.changes))
			if ready != tc.ready || !strings.Contains(waiting, tc.waiting) {
				t.Fatalf("checkHealth = %v, %q; want %v, %q", ready, waiting, tc.ready, tc.waiting)
			}
		})
	}
}
