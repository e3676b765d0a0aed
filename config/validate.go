package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// validate checks raw, fills in the defaults and resolves the template paths
// of the config file at path. Fields in failed did not decode and are not
// checked again, so that one mistake yields one error.
func validate(path string, raw *rawConfig, failed []string) (*Watch, []error) {
	var errs []error
	// A field is not checked if it, a field in it or the field it is in
	// failed: "children" that is not a map has no "children.kinds" to check.
	within := func(field, parent string) bool {
		return field == parent || strings.HasPrefix(field, parent+".") || strings.HasPrefix(field, parent+"[")
	}
	ok := func(field string) bool {
		return !slices.ContainsFunc(failed, func(f string) bool {
			return within(f, field) || within(field, f)
		})
	}
	w := &Watch{
		File:         path,
		Name:         raw.Name,
		Namespaces:   raw.Namespaces,
		Selector:     labels.Everything(),
		SelectorText: raw.Selector,
		Workers:      DefaultWorkers,
		Resync:       DefaultResync,
	}

	if ok("name") {
		source := ""
		if w.Name == "" {
			w.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			source = " (from the file name)"
		}
		for _, msg := range validation.IsDNS1123Label(w.Name) {
			errs = append(errs, fmt.Errorf("name: %q%s is not a valid DNS-1123 label: %s", w.Name, source, msg))
		}
	}

	if ok("watch") {
		gvk, werrs := validateWatch(raw, ok)
		w.GVK = gvk
		errs = append(errs, werrs...)
	}

	if ok("namespaces") {
		for i, ns := range w.Namespaces {
			for _, msg := range validation.IsDNS1123Label(ns) {
				errs = append(errs, fmt.Errorf("namespaces[%d]: %q is not a valid namespace: %s", i, ns, msg))
			}
			if slices.Contains(w.Namespaces[:i], ns) {
				errs = append(errs, fmt.Errorf("namespaces[%d]: duplicate namespace %q", i, ns))
			}
		}
		if len(w.Namespaces) == 0 {
			w.Namespaces = nil
		}
	}

	if ok("selector") && strings.TrimSpace(raw.Selector) != "" {
		sel, err := labels.Parse(raw.Selector)
		if err != nil {
			errs = append(errs, fmt.Errorf("selector: %w", err))
		} else {
			w.Selector = sel
		}
	}

	errs = append(errs, validateSource(w, raw, filepath.Dir(path), ok)...)

	if ok("examples") {
		examples, eerrs := resolvePaths("examples", filepath.Dir(path), raw.Examples, false)
		w.Examples = examples
		errs = append(errs, eerrs...)
	}

	if ok("workers") && raw.Workers != nil {
		w.Workers = *raw.Workers
		if w.Workers < 1 || w.Workers > MaxWorkers {
			errs = append(errs, fmt.Errorf("workers: must be between 1 and %d, got %d", MaxWorkers, w.Workers))
		}
	}

	if ok("resync") && raw.Resync != nil {
		w.Resync = *raw.Resync
		if w.Resync != 0 && w.Resync < MinResync {
			errs = append(errs, fmt.Errorf("resync: must be 0 (disabled) or at least %s, got %s", MinResync, w.Resync))
		}
	}

	errs = append(errs, validatePolicies(w, raw, ok)...)
	return w, errs
}

// validateWatch checks the watched kind. ok reports whether a field decoded.
func validateWatch(raw *rawConfig, ok func(field string) bool) (schema.GroupVersionKind, []error) {
	if !raw.hasWatch {
		return schema.GroupVersionKind{}, []error{fmt.Errorf("watch: required")}
	}
	var errs []error
	gvk := schema.GroupVersionKind{Group: raw.Watch.Group, Version: raw.Watch.Version, Kind: raw.Watch.Kind}
	if ok("watch.group") && gvk.Group != "" {
		for _, msg := range validation.IsDNS1123Subdomain(gvk.Group) {
			errs = append(errs, fmt.Errorf("watch.group: %q is not a valid API group: %s", gvk.Group, msg))
		}
	}
	if ok("watch.version") {
		if gvk.Version == "" {
			errs = append(errs, fmt.Errorf("watch.version: required"))
		}
		for _, msg := range validation.IsDNS1035Label(gvk.Version) {
			if gvk.Version != "" {
				errs = append(errs, fmt.Errorf("watch.version: %q is not a valid API version: %s", gvk.Version, msg))
			}
		}
	}
	if ok("watch.kind") {
		if gvk.Kind == "" {
			errs = append(errs, fmt.Errorf("watch.kind: required"))
		}
		// The API server applies the same rule to the kind of a CRD.
		for _, msg := range validation.IsDNS1035Label(strings.ToLower(gvk.Kind)) {
			if gvk.Kind != "" {
				errs = append(errs, fmt.Errorf("watch.kind: %q is not a valid kind: %s", gvk.Kind, msg))
			}
		}
	}
	return gvk, errs
}

// resolvePaths resolves field, a path or a list of paths relative to dir
// unless absolute, that must exist: the templates (files or directories) or
// the examples (files). A required field must name at least one path.
func resolvePaths(field, dir string, raw any, required bool) ([]string, []error) {
	var paths []string
	switch raw := raw.(type) {
	case nil:
		if required {
			return nil, []error{fmt.Errorf("%s: required", field)}
		}
		return nil, nil
	case string:
		paths = []string{raw}
	case []any:
		if len(raw) == 0 && required {
			return nil, []error{fmt.Errorf("%s: required", field)}
		}
		for i, p := range raw {
			s, ok := p.(string)
			if !ok {
				return nil, []error{fmt.Errorf("%s[%d]: expected a path, got %s", field, i, yamlKind(p))}
			}
			paths = append(paths, s)
		}
	default:
		return nil, []error{fmt.Errorf("%s: expected a path or a list of paths, got %s", field, yamlKind(raw))}
	}

	var (
		resolved []string
		errs     []error
	)
	for _, p := range paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("%s: empty path", field))
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		p = filepath.Clean(p)
		if slices.Contains(resolved, p) {
			errs = append(errs, fmt.Errorf("%s: %s: listed twice", field, p))
			continue
		}
		resolved = append(resolved, p)
		info, err := os.Stat(p)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", field, pathError(p, err)))
		case field == "examples" && info.IsDir():
			// An example is one file of owners; a directory would leave open which
			// of its files are owners.
			errs = append(errs, fmt.Errorf("%s: %s: is a directory, want a file of owners", field, p))
		}
	}
	return resolved, errs
}
