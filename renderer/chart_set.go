package renderer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ChartSet is a watch's default chart and the other charts (or versions of it), by name,
// that an owner may pick with an annotation — so that a new chart version can be tried on
// chosen owners before it becomes the default.
type ChartSet struct {
	Default    *Chart
	Named      map[string]*Chart
	annotation string
	hash       string
}

// NewChartSet combines the default chart with named ones; owners pick a named one with the
// annotation.
func NewChartSet(def *Chart, named map[string]*Chart, annotation string) *ChartSet {
	s := &ChartSet{Default: def, Named: named, annotation: annotation}
	h := sha256.New()
	fmt.Fprintf(h, "bosun-chartset/v1:%s", def.Hash())
	for _, name := range slices.Sorted(maps.Keys(named)) {
		fmt.Fprintf(h, ":%d:%s:%s", len(name), name, named[name].Hash())
	}
	s.hash = hex.EncodeToString(h.Sum(nil))
	return s
}

// Hash covers every chart of the set: changing any of them is a new template version.
func (s *ChartSet) Hash() string { return s.hash }

// Charts returns every chart of the set, the default first.
func (s *ChartSet) Charts() []*Chart {
	out := []*Chart{s.Default}
	for _, name := range slices.Sorted(maps.Keys(s.Named)) {
		out = append(out, s.Named[name])
	}
	return out
}

// MayRenderDeleteHooks reports whether any chart of the set may render a delete hook.
func (s *ChartSet) MayRenderDeleteHooks() bool {
	return slices.ContainsFunc(s.Charts(), (*Chart).MayRenderDeleteHooks)
}

// For returns the chart owner picks, or the default. An unknown name is an *Error.
func (s *ChartSet) For(owner *unstructured.Unstructured) (*Chart, error) {
	name, ok := owner.GetAnnotations()[s.annotation]
	if !ok || name == "" {
		return s.Default, nil
	}
	c, ok := s.Named[name]
	if !ok {
		return nil, &Error{Err: fmt.Errorf("annotation %s: no chart named %q in the watch's charts (%s)", s.annotation, name, strings.Join(slices.Sorted(maps.Keys(s.Named)), ", "))}
	}
	return c, nil
}

// Render renders owner with the chart it picks.
func (s *ChartSet) Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	c, err := s.For(owner)
	if err != nil {
		return nil, err
	}
	return c.Render(ctx, owner)
}

// Map returns a set whose charts are fn of this set's, e.g. with capabilities from discovery.
func (s *ChartSet) Map(fn func(*Chart) (*Chart, error)) (*ChartSet, error) {
	def, err := fn(s.Default)
	if err != nil {
		return nil, err
	}
	named := make(map[string]*Chart, len(s.Named))
	for name, c := range s.Named {
		if named[name], err = fn(c); err != nil {
			return nil, err
		}
	}
	return &ChartSet{Default: def, Named: named, annotation: s.annotation, hash: s.hash}, nil
}
