package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// validateSource checks where the children come from: templates, or a chart with its
// named alternatives, values source and crds policy. Exactly one of templates and chart.
func validateSource(w *Watch, raw *rawConfig, dir string, ok func(field string) bool) []error {
	var errs []error
	hasTemplates, hasChart := raw.Templates != nil, raw.Chart != nil
	switch {
	case hasTemplates && hasChart:
		return []error{fmt.Errorf("templates, chart: set one of the two, not both")}
	case !hasChart:
		if ok("templates") {
			templates, terrs := resolvePaths("templates", dir, raw.Templates, true)
			w.Templates = templates
			errs = append(errs, terrs...)
		}
		for field, set := range map[string]bool{"charts": raw.Charts != nil, "valuesFrom": raw.ValuesFrom != "", "crds": raw.CRDs != ""} {
			if set {
				errs = append(errs, fmt.Errorf("%s: only for a chart (set chart)", field))
			}
		}
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return errs
	}
	if ok("chart") {
		s, isString := raw.Chart.(string)
		if !isString {
			return []error{fmt.Errorf("chart: expected a path, got %s", yamlKind(raw.Chart))}
		}
		paths, cerrs := resolvePaths("chart", dir, s, true)
		errs = append(errs, cerrs...)
		if len(paths) == 1 {
			w.Chart = paths[0]
		}
	}
	if ok("charts") && len(raw.Charts) > 0 {
		w.Charts = map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(raw.Charts)) {
			field := "charts." + name
			for _, msg := range validation.IsDNS1123Subdomain(name) {
				errs = append(errs, fmt.Errorf("%s: %q is not a valid chart name: %s", field, name, msg))
			}
			s, isString := raw.Charts[name].(string)
			if !isString {
				errs = append(errs, fmt.Errorf("%s: expected a path, got %s", field, yamlKind(raw.Charts[name])))
				continue
			}
			paths, cerrs := resolvePaths(field, dir, s, true)
			errs = append(errs, cerrs...)
			if len(paths) == 1 {
				w.Charts[name] = paths[0]
			}
		}
	}
	w.ValuesFrom = ValuesFromSpec
	if ok("valuesfrom") && raw.ValuesFrom != "" {
		w.ValuesFrom = raw.ValuesFrom
		if raw.ValuesFrom != ValuesFromSpec && raw.ValuesFrom != ValuesFromResource {
			errs = append(errs, fmt.Errorf("valuesFrom: want %q or %q, got %q", ValuesFromSpec, ValuesFromResource, raw.ValuesFrom))
		}
	}
	w.CRDs = CRDsInstall
	if ok("crds") && raw.CRDs != "" {
		w.CRDs = raw.CRDs
		if raw.CRDs != CRDsInstall && raw.CRDs != CRDsSkip {
			errs = append(errs, fmt.Errorf("crds: want %q or %q, got %q", CRDsInstall, CRDsSkip, raw.CRDs))
		}
	}
	return errs
}
