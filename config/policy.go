package config

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Defaults and limits of the children, safety, rollout and renderTimeout
// settings.
const (
	DefaultMaxDeletes       = 100
	DefaultMaxDeletePercent = 50
	// DefaultMaxKindRemovalPercent: a kind may leave at most this share of
	// the owners that have it in a window (at least MinKindRemovals owners).
	DefaultMaxKindRemovalPercent = 10
	// MinKindRemovals owners may always lose a kind within a window, so that
	// small watches can change their templates.
	MinKindRemovals      = 3
	DefaultMaxFailures   = 5
	DefaultMaxInFlight   = 100
	DefaultRenderTimeout = 10 * time.Second
	// MinRenderTimeout and MaxRenderTimeout bound a render: below the minimum
	// an ordinary render on a busy node times out; above the maximum a stuck
	// template holds a worker for too long.
	MinRenderTimeout = 100 * time.Millisecond
	MaxRenderTimeout = 5 * time.Minute
	// DefaultMaxChildren and MaxMaxChildren bound the objects one owner may
	// render (children.max).
	DefaultMaxChildren = 2000
	MaxMaxChildren     = 50_000
)

// AnyNamespace in ChildPolicy.Namespaces allows children in every namespace.
const AnyNamespace = "*"

// ChildPolicy limits what an owner may ask bosun to create: an owner is
// usually written by a tenant, the templates by the platform team.
type ChildPolicy struct {
	// Namespaces are the namespaces besides the owner's own that namespaced
	// children may be put in; AnyNamespace alone means any. nil allows only
	// the owner's namespace.
	Namespaces []string
	// ClusterScoped allows cluster-scoped children such as Namespaces,
	// ClusterRoles or CRDs, which escape every tenant boundary.
	ClusterScoped bool
	// Kinds are the kinds children may have; nil allows any kind.
	Kinds []schema.GroupKind
	// Adopt lets bosun take over existing objects without bosun's labels;
	// otherwise applying over such an object is refused, so that an owner
	// cannot overwrite objects it did not create.
	Adopt bool
	// AdoptHelmReleases lets bosun take over the objects of a Helm release
	// named after the owner, in its namespace (label
	// app.kubernetes.io/managed-by=Helm, annotations
	// meta.helm.sh/release-name and -namespace), moving the fields Helm
	// owned to bosun so that what leaves the chart is removed.
	AdoptHelmReleases bool
	// RecreateOnImmutable deletes and re-creates a child whose apply failed
	// because an immutable field changed. It is off by default because
	// re-creating loses the object's state, e.g. a Job's pods.
	RecreateOnImmutable bool
	// Ignore lists fields bosun never sets, at most one rule per kind, so
	// that other managers (an HPA, a human) own them.
	Ignore []IgnoreRule
	// Max is how many objects one owner may render, hooks included; a render
	// of more fails the owner (RenderFailed) before anything is applied.
	Max int
}

// LookupPolicy limits what a chart's lookup may read on an owner's behalf
// outside the owner's own namespace (where it reads any kind, RBAC
// permitting): only in the namespaces and scopes ChildPolicy lets children
// go to, and there only Kinds, or when Kinds is empty every kind but Secret.
// A tenant whose values reach tpl calls lookup as it likes; a Secret of a
// shared namespace must not be one tpl away from the tenant's own ConfigMap.
type LookupPolicy struct {
	Kinds []schema.GroupKind
}

// IgnoreRule names fields of one kind of child that bosun leaves to other
// managers.
type IgnoreRule struct {
	Kind schema.GroupKind
	// Paths are field paths split on ".", e.g. {"spec", "replicas"}; each
	// segment is a map key, as list items cannot be addressed by a path.
	Paths [][]string
}

// StatusMode says whether bosun writes the owner's status.
type StatusMode string

// The values of status.enabled.
const (
	// StatusAuto writes status when the owner's kind has a status
	// subresource, which is only known once bosun talks to the API server.
	StatusAuto StatusMode = "auto"
	StatusOn   StatusMode = "true"
	StatusOff  StatusMode = "false"
)

// ReadyMode says when bosun reports an owner Ready.
type ReadyMode string

// The values of status.ready.
const (
	// ReadyHealthy waits for the children to be healthy by kstatus rules,
	// e.g. a Deployment's pods to be available.
	ReadyHealthy ReadyMode = "healthy"
	// ReadyApplied reports Ready once every child has been applied.
	ReadyApplied ReadyMode = "applied"
)

// StatusPolicy says how bosun reports on owners in their status.
type StatusPolicy struct {
	Enabled StatusMode
	Ready   ReadyMode
}

// Safety limits deletions, so that a template mistake or an emptied label
// selector cannot wipe out a watch's children in one sweep.
type Safety struct {
	// MaxDeletes is the most children one prune or orphan sweep may delete;
	// 0 means no limit.
	MaxDeletes int
	// MaxDeletePercent is the most children one sweep may delete, as a
	// percentage of the watch's children; 100 means no limit.
	MaxDeletePercent int
	// MaxKindRemovalPercent limits prunes that take the last child of a kind
	// from an owner: within a window, at most this share of the owners that
	// have the kind (and at least MinKindRemovals) may lose it; 100 means no
	// limit.
	MaxKindRemovalPercent int
}

// Rollout paces re-rendering owners when the templates change, so that a bad
// template version reaches a few owners rather than all of them.
type Rollout struct {
	// MaxInFlight is the number of owners that may be on a new template
	// version without being Ready yet; the rollout reaches further owners as
	// earlier ones become Ready. Never 0: an unset or 0 value resolves to
	// DefaultMaxInFlight.
	MaxInFlight int
	// MaxFailures is the number of owners failing with a new template
	// version before the rollout pauses; at least 1.
	MaxFailures int
}
