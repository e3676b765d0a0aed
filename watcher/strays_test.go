package watcher

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/config"
)

func TestAnOwnerIsAStrayOnlyWhenNoWatchOfItsKindCoversIt(t *testing.T) {
	widget := schema.GroupVersionKind{Group: "e2e.bosun.dev", Version: "v1", Kind: "Widget"}
	watch := func(gvk schema.GroupVersionKind, selector string, namespaces ...string) *controller {
		sel, err := labels.Parse(selector)
		if err != nil {
			t.Fatal(err)
		}
		ns := namespaces
		if len(ns) == 0 {
			ns = []string{""}
		}
		return &controller{watch: Watch{Watch: &config.Watch{GVK: gvk, Selector: sel, SelectorText: selector, Namespaces: namespaces}}, namespaces: ns}
	}
	web := watch(widget, "tier=web", "a", "b")
	m := &Manager{controllers: []*controller{
		web,
		watch(widget, "tier=db", "c"),
		// Another kind's watch covers nothing of Widget's.
		watch(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, ""),
	}}
	for _, tc := range []struct {
		name      string
		namespace string
		labels    map[string]string
		want      string
	}{
		{"an owner the watch covers is no stray", "a", map[string]string{"tier": "web"}, ""},
		{"an owner another watch of the kind covers is no stray", "c", map[string]string{"tier": "db"}, ""},
		{"an owner whose labels left every selector is a stray", "a", map[string]string{"tier": "cache"},
			`labels no longer match the selector "tier=web"`},
		{"an owner in a namespace no watch covers is a stray", "z", map[string]string{"tier": "web"},
			"namespace z is not among the watch's namespaces [a b]"},
		{"a cluster-scoped owner is in every watch's namespaces", "", map[string]string{"tier": "web"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.uncovered(web, tc.namespace, tc.labels); got != tc.want {
				t.Errorf("uncovered = %q, want %q", got, tc.want)
			}
		})
	}
	if m.firstOfKind(m.controllers[1]) != web {
		t.Error("the second watch of a kind must leave the look for strays to the first")
	}
}
