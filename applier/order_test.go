package applier

import (
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestWavesFollowInstallOrder(t *testing.T) {
	kinds := []schema.GroupKind{
		{Kind: "Namespace"}, {Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
		{Kind: "ConfigMap"}, {Kind: "Secret"}, {Kind: "ServiceAccount"}, {Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"},
		{Kind: "Service"}, {Group: "apps", Kind: "Deployment"}, {Group: "networking.k8s.io", Kind: "Ingress"},
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
		{Group: "example.com", Kind: "Widget"}, {Group: "example.com", Kind: "Service"},
	}
	want := []int{0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 4, 4}
	for i, gk := range kinds {
		if got := wave(gk); got != want[i] {
			t.Errorf("wave(%s) = %d, want %d", gk, got, want[i])
		}
	}
	// A wave is a range of ranks: sorting by rank never puts a later wave first.
	sorted := slices.Clone(kinds)
	sort.SliceStable(sorted, func(a, b int) bool { return rank(sorted[a]) < rank(sorted[b]) })
	for i := 1; i < len(sorted); i++ {
		if wave(sorted[i]) < wave(sorted[i-1]) {
			t.Errorf("%s (wave %d) sorts after %s (wave %d)", sorted[i], wave(sorted[i]), sorted[i-1], wave(sorted[i-1]))
		}
	}
}

func TestInWavesRunsAWaveAtOnceAndWavesInTurn(t *testing.T) {
	items := []schema.GroupKind{
		{Kind: "Namespace"},
		{Kind: "ConfigMap"}, {Kind: "Secret"},
		{Kind: "Service"}, {Group: "apps", Kind: "Deployment"}, {Group: "apps", Kind: "StatefulSet"},
		{Group: "apps", Kind: "DaemonSet"}, {Group: "batch", Kind: "Job"}, {Group: "batch", Kind: "CronJob"},
	}
	var mu sync.Mutex
	var started, finished []int
	running, peak := 0, 0
	inWaves(items, wave, func(i int) {
		mu.Lock()
		for _, f := range finished {
			if wave(items[f]) > wave(items[i]) {
				t.Errorf("%s started after %s of a later wave finished", items[i], items[f])
			}
		}
		for _, s := range started {
			if wave(items[s]) < wave(items[i]) && !slices.Contains(finished, s) {
				t.Errorf("%s started before %s of an earlier wave finished", items[i], items[s])
			}
		}
		started = append(started, i)
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		finished = append(finished, i)
		mu.Unlock()
	})
	if len(finished) != len(items) {
		t.Fatalf("ran %d of %d items", len(finished), len(items))
	}
	if peak != perOwnerRequests {
		t.Errorf("at most %d ran at once, want the per-owner bound %d (six workloads in one wave)", peak, perOwnerRequests)
	}
}

func TestDeletesGoWebhooksFirstNamespacesAndCRDsLast(t *testing.T) {
	cases := map[schema.GroupKind]int{
		{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}: 0,
		{Group: "apiregistration.k8s.io", Kind: "APIService"}:                         0,
		{Kind: "ConfigMap"}: 1, {Kind: "Service"}: 1, {Group: "apps", Kind: "Deployment"}: 1,
		{Group: "example.com", Kind: "Widget"}: 1,
		{Kind: "Namespace"}:                    2, {Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: 2,
	}
	for gk, want := range cases {
		if got := deleteWave(gk); got != want {
			t.Errorf("deleteWave(%s) = %d, want %d", gk, got, want)
		}
	}
}
