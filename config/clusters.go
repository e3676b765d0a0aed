package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// LocalCluster names the cluster bosun runs against (the hub, where the owners are) among
// the clusters an owner's children may go to. No workload cluster may take the name.
const LocalCluster = "local"

// AnnotationCluster on an owner names the cluster, or comma-separated clusters, its children
// go to; it takes precedence over clusters.field and the watch's default or selector.
const AnnotationCluster = "bosun.dev/cluster"

// DefaultUnreachableTimeout is how long deleting or moving an owner waits for an unreachable
// cluster to answer before it gives up on the children there and says what it left behind.
const DefaultUnreachableTimeout = 10 * time.Minute

// ClusterPolicy decides, per owner, the clusters that get its children. The owner names them
// (AnnotationCluster, or the owner field Field); an owner that names none gets the clusters
// Selector matches (fan-out: the same children into each), else Default. A cluster the owner
// names must be allowed: Default, one Selector matches, or one Allowed or AllowedSelector
// admits — or, with Field set and neither Allowed nor AllowedSelector, any; others are refused
// with a condition naming them.
type ClusterPolicy struct {
	// Default is the cluster of owners that name none; LocalCluster when not set.
	Default string
	// Selector, when set, selects the workload clusters (by the labels of their Secret or
	// ClusterProfile) of owners that name none, instead of Default.
	Selector     labels.Selector
	SelectorText string
	// Field is the owner field naming its cluster or clusters (a string, or a list of
	// strings), split on "."; nil when not set.
	Field []string
	// Allowed are name patterns (path.Match: "eu-*") of clusters owners may name.
	Allowed []string
	// AllowedSelector admits, when set, the clusters whose labels match it.
	AllowedSelector labels.Selector
	// UnreachableTimeout is how long deleting or moving an owner waits for a cluster that
	// does not answer before it gives up on the children there.
	UnreachableTimeout time.Duration
}

// Remote reports whether the policy may send children to a cluster other than the local one:
// only then does bosun need workload cluster credentials.
func (p ClusterPolicy) Remote() bool {
	return (p.Default != "" && p.Default != LocalCluster) || p.Selector != nil || p.Field != nil ||
		len(p.Allowed) > 0 || p.AllowedSelector != nil
}

// Permits reports whether an owner may name the cluster with these labels.
func (p ClusterPolicy) Permits(name string, clusterLabels map[string]string) bool {
	if name == p.Default || (p.Default == "" && name == LocalCluster) {
		return true
	}
	if p.Field != nil && len(p.Allowed) == 0 && p.AllowedSelector == nil {
		// A watch that reads the cluster from a field of the owner lets owners choose: any
		// cluster bosun knows, unless allowed or allowedSelector narrow it.
		return true
	}
	for _, pat := range p.Allowed {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	set := labels.Set(clusterLabels)
	return name != LocalCluster && ((p.Selector != nil && p.Selector.Matches(set)) || (p.AllowedSelector != nil && p.AllowedSelector.Matches(set)))
}

func validateClusters(raw rawClusters, ok func(field string) bool) (ClusterPolicy, []error) {
	var errs []error
	p := ClusterPolicy{Default: strings.TrimSpace(raw.Default), UnreachableTimeout: DefaultUnreachableTimeout}
	if ok("clusters.unreachabletimeout") && raw.UnreachableTimeout != nil {
		p.UnreachableTimeout = *raw.UnreachableTimeout
		if p.UnreachableTimeout < time.Second {
			errs = append(errs, fmt.Errorf("clusters.unreachableTimeout: must be 1s or more, got %s", p.UnreachableTimeout))
		}
	}
	if raw.Selector != "" {
		sel, err := labels.Parse(raw.Selector)
		if err != nil {
			errs = append(errs, fmt.Errorf("clusters.selector: %w", err))
		} else {
			p.Selector, p.SelectorText = sel, raw.Selector
		}
		if p.Default != "" {
			errs = append(errs, fmt.Errorf("clusters: set default or selector, not both: owners that name no cluster go to the default one, or to every cluster the selector matches"))
		}
	}
	if raw.AllowedSelector != "" {
		sel, err := labels.Parse(raw.AllowedSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("clusters.allowedSelector: %w", err))
		} else {
			p.AllowedSelector = sel
		}
	}
	for i, pat := range raw.Allowed {
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			errs = append(errs, fmt.Errorf("clusters.allowed[%d]: %q is not a name pattern (path.Match, as eu-*)", i, pat))
		}
	}
	p.Allowed = raw.Allowed
	if raw.Field != "" {
		f := strings.TrimPrefix(raw.Field, ".")
		parts := strings.Split(f, ".")
		for _, s := range parts {
			if s == "" {
				errs = append(errs, fmt.Errorf("clusters.field: %q is not a field path (as spec.cluster)", raw.Field))
				break
			}
		}
		if parts[0] == "metadata" {
			errs = append(errs, fmt.Errorf("clusters.field: %q: name the cluster with the %s annotation instead of a metadata field", raw.Field, AnnotationCluster))
		}
		p.Field = parts
	}
	return p, errs
}
