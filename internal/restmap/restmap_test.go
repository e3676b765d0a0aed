package restmap

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
)

func TestMappingRememberedUntilReset(t *testing.T) {
	fake := &clienttesting.Fake{Resources: []*metav1.APIResourceList{{
		GroupVersion: "v1",
		APIResources: []metav1.APIResource{{Name: "configmaps", Kind: "ConfigMap", Namespaced: true}},
	}}}
	m := New(&fakediscovery.FakeDiscovery{Fake: fake}, time.Hour)
	cm := schema.GroupKind{Kind: "ConfigMap"}

	got, err := m.RESTMapping(cm)
	if err != nil || got.Resource.Resource != "configmaps" {
		t.Fatalf("RESTMapping(ConfigMap) = %v, %v", got, err)
	}
	got.Resource.Resource = "changed by a caller"
	lookups := len(fake.Actions())
	again, err := m.RESTMapping(cm)
	if err != nil || again.Resource.Resource != "configmaps" {
		t.Fatalf("second RESTMapping(ConfigMap) = %v, %v: a caller's change leaked into the memory", again, err)
	}
	if n := len(fake.Actions()); n != lookups {
		t.Errorf("second RESTMapping read discovery again (%d actions, was %d)", n, lookups)
	}

	// A kind installed later is found once the minimum interval allows a new discovery, and a
	// Reset forgets the remembered mappings too.
	fake.Resources[0].APIResources[0].Name = "configmaps2"
	m.Reset()
	after, err := m.RESTMapping(cm)
	if err != nil || after.Resource.Resource != "configmaps2" {
		t.Fatalf("RESTMapping(ConfigMap) after Reset = %v, %v; want the new discovery's resource", after, err)
	}
}
