package config

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Defaults and limits for the optional settings of a watch config.
const (
	DefaultWorkers = 32
	MaxWorkers     = 256
	DefaultResync  = 10 * time.Minute
	// MinResync keeps a misconfigured resync from turning into a relist storm
	// against the API server.
	MinResync = 30 * time.Second
)

// Watch is one validated watch config: the objects of one kind that bosun
// renders children for.
type Watch struct {
	// Name identifies the watch in logs and metrics; it is unique across the
	// loaded files and defaults to the file name without its extension.
	Name string
	// File is the config file the watch came from, as given to Load.
	File string
	// GVK is the watched kind; Group is empty for core kinds.
	GVK schema.GroupVersionKind
	// Namespaces restricts the watch to these namespaces; nil means all.
	Namespaces []string
	// Selector restricts the watch to matching objects; labels.Everything()
	// when no selector is configured.
	Selector labels.Selector
	// SelectorText is the selector as written, for logs and list options.
	SelectorText string
	// Templates are the template files and directories, cleaned and joined
	// with the config file's directory unless absolute.
	Templates []string
	// Chart is the Helm chart (a directory or a packaged .tgz) rendered instead
	// of Templates, resolved like them; exactly one of the two is set.
	Chart string
	// Charts are other charts (or versions of the chart), by name, that an
	// owner picks with the AnnotationChart annotation; nil if none.
	Charts map[string]string
	// ValuesFrom says what a chart sees of the owner: ValuesFromSpec (the
	// default) or ValuesFromResource.
	ValuesFrom string
	// OverrideValues are forced over the owner's values of a chart, with their
	// keys' case preserved; nil if none.
	OverrideValues map[string]any
	// CRDs is CRDsInstall (the default) or CRDsSkip: what happens to the
	// files in a chart's crds/ directory.
	CRDs string
	// Examples are files of sample owners (multi-document YAML) that
	// `bosun check` renders, resolved like Templates; nil if none. bosun run
	// only checks that they exist.
	Examples []string
	// Values is passed to the templates as .Values with its keys' case
	// preserved; never nil. Integers are int64 and other numbers float64, so
	// that large integers render without an exponent.
	Values map[string]any
	// Workers is the number of objects of this kind reconciled in parallel.
	Workers int
	// Resync is the period of the informer's resync; 0 disables it.
	Resync time.Duration
	// Children limits the children owners may ask for: by default only
	// namespaced children in the owner's namespace, of any kind, never taking
	// over objects bosun does not manage.
	Children ChildPolicy
	// Status says whether and how bosun writes owners' status; by default
	// when the kind has a status subresource, Ready once children are healthy.
	Status StatusPolicy
	// Safety limits the deletions of one prune or orphan sweep; by default to
	// 100 children and 50% of the watch's children.
	Safety Safety
	// Rollout paces re-rendering owners after a template change; by default
	// Workers owners at once, pausing after 5 failures.
	Rollout Rollout
	// Lookup limits what a chart's lookup reads outside the owner's namespace.
	Lookup LookupPolicy
	// Clusters says which cluster (or clusters) get each owner's children: by
	// default the one bosun runs against (LocalCluster).
	Clusters ClusterPolicy
	// RenderTimeout limits one render, so that a runaway template cannot hold
	// a worker; 10s by default.
	RenderTimeout time.Duration
}

// Chart settings.
const (
	// AnnotationChart on an owner names the chart of the watch's charts to
	// render it with; without it the owner gets Chart.
	AnnotationChart = "bosun.dev/chart"
	// ValuesFromSpec gives a chart the owner's .spec as .Values
	// (helm-operator's convention).
	ValuesFromSpec = "spec"
	// ValuesFromResource gives a chart .Values.resource.{name,namespace,spec}
	// (Lostromos' convention).
	ValuesFromResource = "resource"
	// CRDsInstall applies the files of a chart's crds/ once at start-up,
	// before any owner, and never deletes them.
	CRDsInstall = "install"
	// CRDsSkip leaves a chart's crds/ alone (installed by other means).
	CRDsSkip = "skip"
)

// String describes the watch for humans, e.g. "sites (Site.v1.example.bosun.dev)".
func (w *Watch) String() string {
	return fmt.Sprintf("%s (%s)", w.Name, GVKString(w.GVK))
}

// GVKString formats a kind the way kubectl does for resources,
// Kind.version.group, leaving out the group of core kinds: "ConfigMap.v1".
func GVKString(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Kind + "." + gvk.Version
	}
	return gvk.Kind + "." + gvk.Version + "." + gvk.Group
}
