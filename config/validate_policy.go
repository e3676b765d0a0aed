package config

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// validatePolicies checks the children, status, safety, rollout and
// renderTimeout settings of raw into w, whose Workers must be set. ok reports
// whether a field decoded; fields are named as viper has them, lower-cased.
func validatePolicies(w *Watch, raw *rawConfig, ok func(field string) bool) []error {
	var errs []error
	children, cerrs := validateChildren(raw.Children, ok)
	w.Children = children
	errs = append(errs, cerrs...)

	if ok("lookup.kinds") {
		kinds, kerrs := parseKinds("lookup.kinds", raw.Lookup.Kinds)
		w.Lookup.Kinds = kinds
		errs = append(errs, kerrs...)
	}

	clusters, clerrs := validateClusters(raw.Clusters, ok)
	w.Clusters = clusters
	errs = append(errs, clerrs...)

	status, serrs := validateStatus(raw.Status, ok)
	w.Status = status
	errs = append(errs, serrs...)

	w.Safety = Safety{MaxDeletes: DefaultMaxDeletes, MaxDeletePercent: DefaultMaxDeletePercent, MaxKindRemovalPercent: DefaultMaxKindRemovalPercent}
	if ok("safety.maxkindremovalpercent") && raw.Safety.MaxKindRemovalPercent != nil {
		w.Safety.MaxKindRemovalPercent = *raw.Safety.MaxKindRemovalPercent
		if w.Safety.MaxKindRemovalPercent < 1 || w.Safety.MaxKindRemovalPercent > 100 {
			errs = append(errs, fmt.Errorf("safety.maxKindRemovalPercent: must be between 1 and 100 (no limit), got %d", w.Safety.MaxKindRemovalPercent))
		}
	}
	if ok("safety.maxdeletes") && raw.Safety.MaxDeletes != nil {
		w.Safety.MaxDeletes = *raw.Safety.MaxDeletes
		if w.Safety.MaxDeletes < 0 {
			errs = append(errs, fmt.Errorf("safety.maxDeletes: must be 0 (no limit) or more, got %d", w.Safety.MaxDeletes))
		}
	}
	if ok("safety.maxdeletepercent") && raw.Safety.MaxDeletePercent != nil {
		w.Safety.MaxDeletePercent = *raw.Safety.MaxDeletePercent
		if w.Safety.MaxDeletePercent < 1 || w.Safety.MaxDeletePercent > 100 {
			errs = append(errs, fmt.Errorf("safety.maxDeletePercent: must be between 1 and 100 (no limit), got %d", w.Safety.MaxDeletePercent))
		}
	}

	w.Rollout = Rollout{MaxFailures: DefaultMaxFailures}
	if ok("rollout.maxinflight") && raw.Rollout.MaxInFlight != nil {
		w.Rollout.MaxInFlight = *raw.Rollout.MaxInFlight
		if w.Rollout.MaxInFlight < 0 {
			errs = append(errs, fmt.Errorf("rollout.maxInFlight: must be 0 (the default) or more, got %d", w.Rollout.MaxInFlight))
		}
	}
	if w.Rollout.MaxInFlight == 0 {
		w.Rollout.MaxInFlight = DefaultMaxInFlight
	}
	if ok("rollout.maxfailures") && raw.Rollout.MaxFailures != nil {
		w.Rollout.MaxFailures = *raw.Rollout.MaxFailures
		if w.Rollout.MaxFailures < 1 {
			errs = append(errs, fmt.Errorf("rollout.maxFailures: must be 1 or more, got %d", w.Rollout.MaxFailures))
		}
	}

	w.RenderTimeout = DefaultRenderTimeout
	if ok("rendertimeout") && raw.RenderTimeout != nil {
		w.RenderTimeout = *raw.RenderTimeout
		if w.RenderTimeout < MinRenderTimeout || w.RenderTimeout > MaxRenderTimeout {
			errs = append(errs, fmt.Errorf("renderTimeout: must be between %s and %s, got %s", MinRenderTimeout, MaxRenderTimeout, w.RenderTimeout))
		}
	}
	return errs
}

// parseKinds parses a list of kinds (Kind.group, or Kind for core) of the field.
func parseKinds(field string, raw []string) ([]schema.GroupKind, []error) {
	var kinds []schema.GroupKind
	var errs []error
	for i, s := range raw {
		item := fmt.Sprintf("%s[%d]", field, i)
		gk, err := parseGroupKind(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", item, err))
		case slices.Contains(kinds, gk):
			errs = append(errs, fmt.Errorf("%s: duplicate kind %q", item, s))
		default:
			kinds = append(kinds, gk)
		}
	}
	return kinds, errs
}

func validateChildren(raw rawChildren, ok func(field string) bool) (ChildPolicy, []error) {
	var errs []error
	p := ChildPolicy{
		ClusterScoped:       raw.ClusterScoped,
		Adopt:               raw.Adopt,
		AdoptHelmReleases:   raw.AdoptHelmReleases,
		RecreateOnImmutable: raw.RecreateOnImmutable,
	}

	p.Max = DefaultMaxChildren
	if ok("children.max") && raw.Max != nil {
		p.Max = *raw.Max
		if p.Max < 1 || p.Max > MaxMaxChildren {
			errs = append(errs, fmt.Errorf("children.max: must be between 1 and %d, got %d", MaxMaxChildren, p.Max))
		}
	}

	if ok("children.namespaces") && len(raw.Namespaces) > 0 {
		p.Namespaces = raw.Namespaces
		for i, ns := range p.Namespaces {
			field := fmt.Sprintf("children.namespaces[%d]", i)
			if slices.Contains(p.Namespaces[:i], ns) {
				errs = append(errs, fmt.Errorf("%s: duplicate namespace %q", field, ns))
				continue
			}
			if ns == AnyNamespace {
				if len(p.Namespaces) > 1 {
					errs = append(errs, fmt.Errorf("%s: %q allows any namespace and cannot be combined with other namespaces", field, ns))
				}
				continue
			}
			for _, msg := range validation.IsDNS1123Label(ns) {
				errs = append(errs, fmt.Errorf("%s: %q is not a valid namespace: %s", field, ns, msg))
			}
		}
	}

	if ok("children.kinds") {
		kinds, kerrs := parseKinds("children.kinds", raw.Kinds)
		p.Kinds = kinds
		errs = append(errs, kerrs...)
	}

	if ok("children.ignore") {
		for i, r := range raw.Ignore {
			rule, rerrs := validateIgnoreRule(fmt.Sprintf("children.ignore[%d]", i), r, p.Ignore)
			p.Ignore = append(p.Ignore, rule)
			errs = append(errs, rerrs...)
		}
	}
	return p, errs
}

// validateIgnoreRule checks the rule at field; earlier are the rules before
// it, each kind of which may have only one rule.
func validateIgnoreRule(field string, raw rawIgnore, earlier []IgnoreRule) (IgnoreRule, []error) {
	var (
		rule IgnoreRule
		errs []error
	)
	if raw.Kind == "" {
		errs = append(errs, fmt.Errorf("%s.kind: required", field))
	} else if gk, err := parseGroupKind(raw.Kind); err != nil {
		errs = append(errs, fmt.Errorf("%s.kind: %w", field, err))
	} else {
		rule.Kind = gk
		if i := slices.IndexFunc(earlier, func(r IgnoreRule) bool { return r.Kind == gk }); i >= 0 {
			errs = append(errs, fmt.Errorf("%s.kind: %q already has a rule in children.ignore[%d]; list its paths there", field, raw.Kind, i))
		}
	}

	if len(raw.Paths) == 0 {
		errs = append(errs, fmt.Errorf("%s.paths: required, at least one path", field))
	}
	var seen []string
	for i, p := range raw.Paths {
		pfield := fmt.Sprintf("%s.paths[%d]", field, i)
		if slices.Contains(seen, p) {
			errs = append(errs, fmt.Errorf("%s: duplicate path %q", pfield, p))
			continue
		}
		seen = append(seen, p)
		path, err := parsePath(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pfield, err))
			continue
		}
		rule.Paths = append(rule.Paths, path)
	}
	return rule, errs
}

// parsePath splits a dot-separated field path into its map keys.
func parsePath(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	path := strings.Split(s, ".")
	for _, seg := range path {
		if seg == "" {
			return nil, fmt.Errorf("%q has an empty segment; want map keys separated by single dots, e.g. spec.replicas", s)
		}
		if strings.ContainsAny(seg, "[]") || isIndex(seg) {
			return nil, fmt.Errorf("%q addresses a list item; only map keys can be ignored", s)
		}
	}
	// Without these bosun could neither find its child nor tell that it owns
	// it, so pruning and adoption checks would go wrong.
	for _, reserved := range []string{"apiVersion", "kind", "metadata.name", "metadata.namespace", "metadata.labels", "metadata.ownerReferences"} {
		r := strings.Split(reserved, ".")
		if len(path) <= len(r) && slices.Equal(path, r[:len(path)]) {
			return nil, fmt.Errorf("%q cannot be ignored: bosun needs to set %s to identify and own the child", s, reserved)
		}
	}
	return path, nil
}

func isIndex(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// parseGroupKind parses Kind.group, or Kind for core kinds, the format of
// kubectl and of RBAC rules.
func parseGroupKind(s string) (schema.GroupKind, error) {
	gk := schema.ParseGroupKind(s)
	switch {
	case gk.Kind == "":
		return gk, fmt.Errorf("%q has no kind; want Kind.group, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap", s)
	case isVersion(strings.Split(gk.Group, ".")[0]):
		return gk, fmt.Errorf("%q has a version; want Kind.group without it, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap", s)
	}
	// Only a Kind.group needs its kind pointed out.
	in := ""
	if gk.Group != "" {
		in = fmt.Sprintf("%q: ", s)
	}
	if msgs := validation.IsDNS1035Label(strings.ToLower(gk.Kind)); len(msgs) > 0 {
		return gk, fmt.Errorf("%s%q is not a valid kind: %s", in, gk.Kind, strings.Join(msgs, "; "))
	}
	// Kinds are case-sensitive: "deployment.apps", written by kubectl habit,
	// would never match and silently allow or ignore nothing.
	if first := gk.Kind[0]; first < 'A' || first > 'Z' {
		return gk, fmt.Errorf("%skind %q must start with an upper-case letter, e.g. %s", in, gk.Kind, strings.ToUpper(gk.Kind[:1])+gk.Kind[1:])
	}
	if msgs := validation.IsDNS1123Subdomain(gk.Group); gk.Group != "" && len(msgs) > 0 {
		return gk, fmt.Errorf("%q: %q is not a valid API group: %s", s, gk.Group, strings.Join(msgs, "; "))
	}
	return gk, nil
}

// isVersion reports whether s looks like an API version: v1, v2beta1.
func isVersion(s string) bool {
	rest, ok := strings.CutPrefix(s, "v")
	if !ok {
		return false
	}
	major := strings.TrimLeft(rest, "0123456789")
	if major == rest {
		return false
	}
	for _, level := range []string{"alpha", "beta"} {
		if minor, ok := strings.CutPrefix(major, level); ok {
			return minor != "" && strings.Trim(minor, "0123456789") == ""
		}
	}
	return major == ""
}

func validateStatus(raw rawStatus, ok func(field string) bool) (StatusPolicy, []error) {
	var errs []error
	p := StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy}
	if ok("status.enabled") {
		switch v := raw.Enabled.(type) {
		case nil:
		case bool:
			p.Enabled = StatusOff
			if v {
				p.Enabled = StatusOn
			}
		case string:
			if m := StatusMode(v); m == StatusAuto || m == StatusOn || m == StatusOff {
				p.Enabled = m
			} else {
				errs = append(errs, fmt.Errorf("status.enabled: must be auto, true or false, got %q", v))
			}
		default:
			errs = append(errs, fmt.Errorf("status.enabled: expected auto, true or false, got %s", yamlKind(v)))
		}
	}
	if ok("status.ready") && raw.Ready != "" {
		if m := ReadyMode(raw.Ready); m == ReadyHealthy || m == ReadyApplied {
			p.Ready = m
		} else {
			errs = append(errs, fmt.Errorf("status.ready: must be healthy or applied, got %q", raw.Ready))
		}
	}
	return p, errs
}
