package renderer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	depsutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/renderer/internal/helmengine"
)

// Where a chart's values come from on the owner.
const (
	// ValuesFromSpec gives the chart the owner's .spec as its values (helm-operator's convention).
	ValuesFromSpec = "spec"
	// ValuesFromResource gives the chart .Values.resource = {name, namespace, spec} (Lostromos').
	ValuesFromResource = "resource"
)

// ChartOptions tune a Chart.
type ChartOptions struct {
	// Values are the watch's values: over the chart's values.yaml, under the owner's. May be nil.
	Values map[string]any
	// Override is forced over the owner's values (helm-operator's overrideValues). May be nil.
	Override map[string]any
	// ValuesFrom is ValuesFromSpec (the default when empty) or ValuesFromResource.
	ValuesFrom string
	// KubeVersion is .Capabilities.KubeVersion ("v1.37.2"); empty means Helm's default.
	KubeVersion string
	// APIVersions are .Capabilities.APIVersions: with discovery, the server's; offline, added
	// to Helm's defaults as `helm template --api-versions` does.
	APIVersions []string
	// ReplaceAPIVersions makes APIVersions the whole set instead of additions (discovery).
	ReplaceAPIVersions bool
	// Lookup serves the chart's lookup function for one owner; nil makes lookup return an
	// empty map, as `helm template` does.
	Lookup LookupFunc
	// IsUpgrade tells whether an owner already has children (.Release.IsUpgrade); nil means
	// every render is an install.
	IsUpgrade func(owner *unstructured.Unstructured) bool
	// MaxOutputBytes caps the text one Render may hold while it runs (every file rendered so far
	// and the include and tpl calls under way); 0 means DefaultMaxOutputBytes.
	MaxOutputBytes int
	// MaxObjects caps the objects one Render may return, hooks included; 0 means
	// DefaultMaxObjects.
	MaxObjects int
}

// LookupFunc reads one object (name set) or a list for a chart's lookup on behalf of owner,
// with Helm's contract: a missing object is an empty map and no error.
type LookupFunc func(ctx context.Context, owner *unstructured.Unstructured, apiVersion, kind, namespace, name string) (map[string]any, error)

// Chart renders an unmodified Helm chart per owner with Helm's own engine, as `helm template
// --skip-tests` would for a release named after the owner. It is immutable after LoadChart and
// safe for concurrent use.
type Chart struct {
	path  string
	chart *chart.Chart // as loaded: never passed to Helm's mutating helpers, only clones
	opts  ChartOptions
	caps  *common.Capabilities
	// perCluster holds caps per workload cluster (cluster.go); shared by copies of c.
	perCluster *clusterCaps
	maxBytes   int
	maxObjs    int
	hash       string
	funcs      *funcCache // shared by the copies With* makes
}

// LoadChart loads a chart directory or packaged .tgz, checks that every dependency of
// Chart.yaml is in charts/, checks the chart's kubeVersion constraint against
// opts.KubeVersion when one is given, and parses every template (of every subchart), so
// that a broken chart fails here with its file and line.
func LoadChart(path string, opts ChartOptions) (*Chart, error) {
	maxBytes, err := outputLimit(opts.MaxOutputBytes)
	if err != nil {
		return nil, err
	}
	maxObjs, err := objectLimit(opts.MaxObjects)
	if err != nil {
		return nil, err
	}
	switch opts.ValuesFrom {
	case "":
		opts.ValuesFrom = ValuesFromSpec
	case ValuesFromSpec, ValuesFromResource:
	default:
		return nil, fmt.Errorf("valuesFrom %q: want %q or %q", opts.ValuesFrom, ValuesFromSpec, ValuesFromResource)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("chart %s: %w", path, err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", path, err)
	}
	if err := checkDependencies(ch); err != nil {
		return nil, fmt.Errorf("chart %s: %w", path, err)
	}
	values, valuesJSON, err := normalizeValues(opts.Values)
	if err != nil {
		return nil, err
	}
	opts.Values = values
	override, overrideJSON, err := normalizeValues(opts.Override)
	if err != nil {
		return nil, fmt.Errorf("override %w", err)
	}
	opts.Override = override
	c := &Chart{path: path, chart: ch, opts: opts, maxBytes: maxBytes, maxObjs: maxObjs, funcs: &funcCache{}, perCluster: &clusterCaps{}}
	if c.caps, err = capabilities(opts); err != nil {
		return nil, err
	}
	if opts.KubeVersion != "" {
		// Without one (bosun run before discovery), WithCapabilities checks it.
		if err := c.checkKubeVersion(); err != nil {
			return nil, err
		}
	}
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.hash = hashChart(ch, valuesJSON, overrideJSON, opts.ValuesFrom)
	return c, nil
}

// WithCapabilities returns a copy of c that renders with the given cluster capabilities
// (from discovery), checking the chart's kubeVersion constraint against them.
func (c *Chart) WithCapabilities(kubeVersion string, apiVersions []string) (*Chart, error) {
	cp := *c
	cp.opts.KubeVersion = kubeVersion
	cp.opts.APIVersions = apiVersions
	cp.opts.ReplaceAPIVersions = true
	var err error
	if cp.caps, err = capabilities(cp.opts); err != nil {
		return nil, err
	}
	if err := cp.checkKubeVersion(); err != nil {
		return nil, err
	}
	return &cp, nil
}

// WithLookup returns a copy of c whose lookup reads through fn.
func (c *Chart) WithLookup(fn LookupFunc) *Chart {
	cp := *c
	cp.opts.Lookup = fn
	return &cp
}

// WithIsUpgrade returns a copy of c that tells installs from upgrades with fn.
func (c *Chart) WithIsUpgrade(fn func(*unstructured.Unstructured) bool) *Chart {
	cp := *c
	cp.opts.IsUpgrade = fn
	return &cp
}

// Hash identifies the chart's files, the watch's values and override, and where values come
// from; not the capabilities, so that a restart against the same cluster re-renders nothing.
func (c *Chart) Hash() string { return c.hash }

// MayRenderDeleteHooks reports whether any template of the chart or its subcharts names a
// pre-delete or post-delete hook.
func (c *Chart) MayRenderDeleteHooks() bool {
	var walk func(ch *chart.Chart) bool
	walk = func(ch *chart.Chart) bool {
		for _, f := range ch.Templates {
			if mentionsDeleteHook(string(f.Data)) {
				return true
			}
		}
		return slices.ContainsFunc(ch.Dependencies(), walk)
	}
	return walk(c.chart)
}

// Path is the chart as configured.
func (c *Chart) Path() string { return c.path }

// Metadata is the chart's Chart.yaml.
func (c *Chart) Metadata() *chart.Metadata { return c.chart.Metadata }

// CRDs returns the objects of the chart's and its subcharts' crds/ directories, shared by
// every owner of the chart and never rendered as templates.
//
// Subcharts that the watch's values (over values.yaml) disable contribute none, as `helm
// install` leaves out the crds/ of disabled dependencies; owners' values cannot change what is
// shared.
func (c *Chart) CRDs() ([]*unstructured.Unstructured, error) {
	ch := cloneChart(c.chart)
	vals, err := c.values(&unstructured.Unstructured{Object: map[string]any{}})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.path, err)
	}
	if err := depsutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", c.path, err)
	}
	var out []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		objs, err := decodeChartDocuments(crd.Filename, crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.path, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func capabilities(opts ChartOptions) (*common.Capabilities, error) {
	caps := common.DefaultCapabilities.Copy()
	if opts.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", opts.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	if opts.ReplaceAPIVersions {
		caps.APIVersions = common.VersionSet(slices.Clone(opts.APIVersions))
	} else {
		caps.APIVersions = append(caps.APIVersions, opts.APIVersions...)
	}
	return caps, nil
}

func (c *Chart) checkKubeVersion() error {
	want := c.chart.Metadata.KubeVersion
	if want == "" || depsutil.IsCompatibleRange(want, c.caps.KubeVersion.String()) {
		return nil
	}
	return fmt.Errorf("chart %s: Chart.yaml: kubeVersion %q does not admit Kubernetes %s", c.path, want, c.caps.KubeVersion.Version)
}

// checkDependencies fails for a dependency of Chart.yaml that is not in charts/, as Helm's
// install does (action.CheckDependencies, not imported to keep Helm's client code out).
func checkDependencies(ch *chart.Chart) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if d == nil {
			continue
		}
		if !slices.ContainsFunc(ch.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == d.Name }) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Chart.yaml: dependencies missing in charts/: %s (vendor them with `helm dependency build`)", strings.Join(missing, ", "))
	}
	for _, sub := range ch.Dependencies() {
		if err := checkDependencies(sub); err != nil {
			return fmt.Errorf("charts/%s: %w", sub.Name(), err)
		}
	}
	return nil
}

// parse runs Helm's engine once over every template of the chart and of all its subcharts
// (enabled or not) with the default values: parse errors fail the load; execution errors do
// not, as they may depend on an owner's values.
func (c *Chart) parse() error {
	ch := cloneChart(c.chart)
	vals, err := chartutil.ToRenderValuesWithSchemaValidation(ch, map[string]any{}, common.ReleaseOptions{Name: "parse-check", Namespace: "default", Revision: 1, IsInstall: true}, c.caps, true)
	if err != nil {
		return nil // a chart whose defaults do not coalesce still gets checked per owner
	}
	_, err = c.engine(context.Background(), nil).RenderWithContext(context.Background(), ch, vals)
	if err != nil && isParseError(err) {
		return fmt.Errorf("chart %s: %w", c.path, err)
	}
	return nil
}

// isParseError tells Helm's parse errors ("parse error at (chart/templates/x.yaml:3): ...")
// from execution errors.
func isParseError(err error) bool {
	return strings.HasPrefix(err.Error(), "parse error")
}

// Render renders the chart for owner: the release is named after the owner and lives in its
// namespace; the values are values.yaml, then the watch's values, then the owner's, then the
// override. It returns the manifests in Helm's install order followed by the hooks in
// hook-weight order — what `helm template --skip-tests` prints, without crds/ and NOTES.txt.
// Hooks keep their helm.sh/hook annotations for the caller's hook policy. Errors caused by the
// chart or the owner's values are *Error; if ctx ends first, the error wraps ctx.Err().
func (c *Chart) Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if owner == nil || owner.Object == nil {
		return nil, errors.New("render: no owner")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vals, err := c.values(owner)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("owner: %w", err)}
	}
	ch := cloneChart(c.chart)
	if err := depsutil.ProcessDependencies(ch, vals); err != nil {
		return nil, &Error{Err: fmt.Errorf("chart dependencies: %w", err)}
	}
	upgrade := c.opts.IsUpgrade != nil && c.opts.IsUpgrade(owner)
	rel := common.ReleaseOptions{Name: owner.GetName(), Namespace: owner.GetNamespace(), Revision: 1, IsInstall: !upgrade, IsUpgrade: upgrade}
	caps, err := c.capsFor(ctx)
	if err != nil {
		return nil, &Error{Err: err}
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, rel, caps, false)
	if err != nil {
		return nil, &Error{Err: err}
	}
	top["Cluster"] = clusterOf(ctx).value()
	files, err := c.engine(ctx, owner).RenderWithContext(ctx, ch, top)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("render: %w", cerr)
		}
		return nil, &Error{Err: err}
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, &Error{Err: err}
	}
	var out []*unstructured.Unstructured
	for _, m := range manifests {
		objs, err := decodeChartDocuments(m.Name, []byte(m.Content))
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		if err := checkObjects(len(out), c.maxObjs); err != nil {
			return nil, err
		}
	}
	for _, h := range hooks {
		if slices.Contains(h.Events, release.HookTest) {
			continue
		}
		objs, err := decodeChartDocuments(h.Path, []byte(h.Manifest))
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		if err := checkObjects(len(out), c.maxObjs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// values layers the watch's values, the owner's and the override; the chart's values.yaml
// goes under them when Helm coalesces.
func (c *Chart) values(owner *unstructured.Unstructured) (map[string]any, error) {
	spec, err := objectField(owner.Object, "spec")
	if err != nil {
		return nil, err
	}
	ownerVals := deepCopy(spec).(map[string]any)
	if c.opts.ValuesFrom == ValuesFromResource {
		ownerVals = map[string]any{"resource": map[string]any{
			"name": owner.GetName(), "namespace": owner.GetNamespace(), "spec": ownerVals,
		}}
	}
	vals := loader.MergeMaps(deepCopy(c.opts.Values).(map[string]any), ownerVals)
	vals = loader.MergeMaps(vals, deepCopy(c.opts.Override).(map[string]any))
	// Helm reads values files with encoding/json's types: every number is a float64, and
	// charts test for it (kindIs "float64"). Owners come with int64s; as `helm template -f`.
	j, err := json.Marshal(vals)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// engine is Helm's engine bounded as a template render is: by ctx and the output budget while
// it runs, with loops and template calls guarded, and sprig's size-taking functions bounded.
func (c *Chart) engine(ctx context.Context, owner *unstructured.Unstructured) helmengine.Engine {
	funcs := boundedFuncs(c.maxBytes)
	maps.Copy(funcs, guardFuncs(ctx))
	funcs["lookup"] = c.lookupFor(ctx, owner)
	return helmengine.Engine{
		CustomTemplateFuncs: funcs,
		Limits: helmengine.Limits{MaxBytes: c.maxBytes, MaxDepth: MaxIncludeDepth, PrepareTree: guardLoops,
			Funcs: func(f template.FuncMap) template.FuncMap { return c.funcs.bound(f, c.maxBytes) }},
	}
}

func (c *Chart) lookupFor(ctx context.Context, owner *unstructured.Unstructured) func(apiVersion, kind, namespace, name string) (map[string]any, error) {
	return func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		lookup := c.lookupOf(ctx)
		if lookup == nil || owner == nil {
			return map[string]any{}, nil
		}
		return lookup(ctx, owner, apiVersion, kind, namespace, name)
	}
}

// cloneChart copies what Helm's dependency processing changes (metadata, dependency lists,
// values) so that the loaded chart is never modified; templates and files are shared.
func cloneChart(c *chart.Chart) *chart.Chart {
	cp := *c
	md := *c.Metadata
	md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
	for i, d := range c.Metadata.Dependencies {
		if d == nil {
			continue
		}
		dc := *d
		dc.Tags = slices.Clone(d.Tags)
		dc.ImportValues = slices.Clone(d.ImportValues)
		md.Dependencies[i] = &dc
	}
	if c.Metadata.Dependencies == nil {
		md.Dependencies = nil
	}
	cp.Metadata = &md
	if c.Values != nil {
		cp.Values = deepCopy(c.Values).(map[string]any)
	}
	deps := make([]*chart.Chart, 0, len(c.Dependencies()))
	for _, d := range c.Dependencies() {
		deps = append(deps, cloneChart(d))
	}
	cp.SetDependencies(deps...)
	return &cp
}

func hashChart(ch *chart.Chart, valuesJSON, overrideJSON []byte, valuesFrom string) string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	field("bosun-chart/v1")
	var walk func(c *chart.Chart, prefix string)
	walk = func(c *chart.Chart, prefix string) {
		files := slices.Clone(c.Raw)
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		for _, f := range files {
			field(prefix + f.Name)
			field(string(f.Data))
		}
		// Subcharts loaded from .tgz files are in Raw as archives too; their unpacked
		// content is walked anyway, for charts assembled without Raw.
		for _, d := range c.Dependencies() {
			walk(d, prefix+"charts/"+d.Name()+"/")
		}
	}
	walk(ch, "")
	field(string(valuesJSON))
	field(string(overrideJSON))
	field(valuesFrom)
	return hex.EncodeToString(h.Sum(nil))
}
