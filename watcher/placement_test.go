package watcher

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bosun-dev/bosun/config"
)

// fakeClusters knows clusters by name and labels; it builds no clients.
type fakeClusters map[string]map[string]string

func (f fakeClusters) Cluster(context.Context, string) (*Cluster, error) {
	return nil, errors.New("not in unit tests")
}
func (f fakeClusters) Labels(name string) (map[string]string, bool) { l, ok := f[name]; return l, ok }
func (f fakeClusters) Names() []string                              { return f.Select(labels.Everything()) }
func (f fakeClusters) Select(sel labels.Selector) []string {
	var out []string
	for _, n := range []string{"eu-1", "eu-2", "us-1"} {
		if l, ok := f[n]; ok && sel.Matches(labels.Set(l)) {
			out = append(out, n)
		}
	}
	return out
}

func placementController(pol config.ClusterPolicy) *controller {
	if pol.UnreachableTimeout == 0 {
		pol.UnreachableTimeout = time.Minute
	}
	return &controller{watch: Watch{Watch: &config.Watch{Name: "sites", Clusters: pol}},
		targets: &targets{clusters: fakeClusters{"eu-1": {"region": "eu"}, "eu-2": {"region": "eu"}, "us-1": {"region": "us"}}}}
}

func ownerWith(ann map[string]string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Site", "spec": spec}}
	u.SetNamespace("ns")
	u.SetName("a")
	u.SetAnnotations(ann)
	return u
}

func TestClustersOfAnOwner(t *testing.T) {
	eu := labels.SelectorFromSet(labels.Set{"region": "eu"})
	for _, tc := range []struct {
		name   string
		pol    config.ClusterPolicy
		owner  *unstructured.Unstructured
		want   string
		reason string
	}{
		{name: "no policy: the local cluster", owner: ownerWith(nil, nil), want: "local"},
		{name: "no policy: naming another cluster is refused", owner: ownerWith(map[string]string{config.AnnotationCluster: "eu-1"}, nil), reason: ReasonClusterNotAllowed},
		{name: "naming local without a policy is fine", owner: ownerWith(map[string]string{config.AnnotationCluster: "local"}, nil), want: "local"},
		{name: "a default", pol: config.ClusterPolicy{Default: "eu-1"}, owner: ownerWith(nil, nil), want: "eu-1"},
		{name: "a default that does not exist", pol: config.ClusterPolicy{Default: "mars"}, owner: ownerWith(nil, nil), reason: ReasonClusterUnknown},
		{name: "fan-out by selector", pol: config.ClusterPolicy{Selector: eu, SelectorText: "region=eu"}, owner: ownerWith(nil, nil), want: "eu-1,eu-2"},
		{name: "a selector that matches nothing keeps everything where it is", pol: config.ClusterPolicy{Selector: labels.SelectorFromSet(labels.Set{"region": "ap"}), SelectorText: "region=ap"}, owner: ownerWith(nil, nil), reason: ReasonClusterUnknown},
		{name: "the annotation names allowed clusters", pol: config.ClusterPolicy{Allowed: []string{"eu-*"}}, owner: ownerWith(map[string]string{config.AnnotationCluster: "eu-2, eu-1"}, nil), want: "eu-1,eu-2"},
		{name: "a cluster outside allowed", pol: config.ClusterPolicy{Allowed: []string{"eu-*"}}, owner: ownerWith(map[string]string{config.AnnotationCluster: "us-1"}, nil), reason: ReasonClusterNotAllowed},
		{name: "allowed by label", pol: config.ClusterPolicy{AllowedSelector: labels.SelectorFromSet(labels.Set{"region": "us"})}, owner: ownerWith(map[string]string{config.AnnotationCluster: "us-1"}, nil), want: "us-1"},
		{name: "an unknown cluster", pol: config.ClusterPolicy{Allowed: []string{"*"}}, owner: ownerWith(map[string]string{config.AnnotationCluster: "mars"}, nil), reason: ReasonClusterUnknown},
		{name: "a field: a string", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Allowed: []string{"*"}}, owner: ownerWith(nil, map[string]any{"cluster": "us-1"}), want: "us-1"},
		{name: "a field: a list", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Allowed: []string{"*"}}, owner: ownerWith(nil, map[string]any{"cluster": []any{"us-1", "eu-1"}}), want: "eu-1,us-1"},
		{name: "a field of the wrong type", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Allowed: []string{"*"}}, owner: ownerWith(nil, map[string]any{"cluster": int64(3)}), reason: ReasonClusterNotAllowed},
		{name: "the annotation wins over the field", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Allowed: []string{"*"}}, owner: ownerWith(map[string]string{config.AnnotationCluster: "eu-2"}, map[string]any{"cluster": "us-1"}), want: "eu-2"},
		{name: "an empty field: the default", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Default: "eu-1"}, owner: ownerWith(nil, map[string]any{}), want: "eu-1"},
		{name: "a field without allowed lets owners choose any cluster", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}}, owner: ownerWith(nil, map[string]any{"cluster": "us-1"}), want: "us-1"},
		{name: "a field with allowed is narrowed by it", pol: config.ClusterPolicy{Field: []string{"spec", "cluster"}, Allowed: []string{"eu-*"}}, owner: ownerWith(nil, map[string]any{"cluster": "us-1"}), reason: ReasonClusterNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := placementController(tc.pol).clustersOf(tc.owner)
			if tc.reason != "" {
				if err == nil || reasonOf(err) != tc.reason {
					t.Fatalf("clustersOf = %v, %v; want an error with reason %s", got, err, tc.reason)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tc.want {
				t.Fatalf("clustersOf = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestHookRecordsPerCluster(t *testing.T) {
	local, eu := &target{name: "local"}, &target{name: "eu-1", remote: true}
	record := "pre:aaa,installed,eu-1/pre:bbb,us-1/pre:ccc"
	if got := hookView(record, local); got != "pre:aaa,installed" {
		t.Errorf("local view = %q", got)
	}
	if got := hookView(record, eu); got != "pre:bbb" {
		t.Errorf("eu-1 view = %q", got)
	}
	if got := hookMerge(record, eu, "pre:bbb,post:ddd,installed"); got != "pre:aaa,installed,us-1/pre:ccc,eu-1/pre:bbb,eu-1/post:ddd,eu-1/installed" {
		t.Errorf("merge into eu-1 = %q", got)
	}
	// An owner of the local cluster alone keeps its record as it always was.
	if got := hookMerge("pre:aaa", local, "pre:aaa,post:bbb,installed"); got != "pre:aaa,post:bbb,installed" {
		t.Errorf("merge into local = %q", got)
	}
}

func TestAClusterThatDoesNotAnswerBacksOff(t *testing.T) {
	now := time.Unix(1000, 0)
	d := &clusterDown{name: "eu-1", now: func() time.Time { return now }}
	if err := d.check(); err != nil {
		t.Fatalf("an answering cluster fails: %v", err)
	}
	if !d.fail(errors.New("connection refused")) || d.fail(errors.New("connection refused")) {
		t.Fatal("fail should report only the first failure of an episode")
	}
	var down *ClusterUnreachableError
	if err := d.check(); !errors.As(err, &down) || reasonOf(err) != ReasonClusterUnreachable {
		t.Fatalf("check while backed off = %v; want a ClusterUnreachableError", err)
	}
	now = now.Add(2 * time.Second) // the backoff (1s, then 2s) passed: one caller goes through
	if err := d.check(); err != nil {
		t.Fatalf("after the backoff the first caller should try: %v", err)
	}
	if err := d.check(); err == nil {
		t.Fatal("the second caller in the same period should be backed off")
	}
	if d.downFor() != 2*time.Second {
		t.Errorf("downFor = %s; want 2s", d.downFor())
	}
	if !d.ok() || d.check() != nil || d.downFor() != 0 {
		t.Error("an answer should end the episode")
	}
}

func TestUnreachableTellsTransportFailuresFromAnswers(t *testing.T) {
	if !unreachable(&ClusterUnreachableError{Cluster: "x", Err: errors.New("x")}) || !unreachable(context.DeadlineExceeded) {
		t.Error("a backed-off cluster and a timeout are unreachable")
	}
	if unreachable(errors.New("render: bad template")) || unreachable(context.Canceled) || unreachable(nil) {
		t.Error("a failure of bosun's own, a cancellation and no error are not")
	}
}
