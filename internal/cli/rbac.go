package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/renderer"
)

// rbacOptions are the flags of rbac.
type rbacOptions struct {
	ConfigPath string
	// Namespace, when set, is the one namespace bosun runs for (bosun run --namespace).
	Namespace string
	Name      string
	// ServiceAccountNamespace is where bosun's ServiceAccount and leader-election Lease live.
	ServiceAccountNamespace string
	LeaseName               string
	// Sharding grants what bosun run --sharding needs on its Leases instead of leader
	// election's.
	Sharding bool
	// Workload prints what bosun needs in a workload cluster (clusters:) instead of the hub:
	// the children's rules, bound to the ServiceAccount named by Name and
	// ServiceAccountNamespace there.
	Workload bool
	kubeFlags
}

func newRBACCommand() *cobra.Command {
	o := rbacOptions{}
	cmd := &cobra.Command{
		Use:   "rbac --config PATH",
		Short: "Print the least-privilege RBAC bosun needs for the watch configs",
		Long: `Print the Roles, ClusterRoles and bindings bosun's ServiceAccount needs to run the watch
configs, as YAML ready for kubectl apply: read, patch and write status of the watched kinds;
create, apply, read and delete the children; record Events; and hold the leader-election
Lease in the ServiceAccount's namespace.

Children get rules for the kinds in each watch's children.kinds; a watch without
children.kinds may render any kind and gets rules for common kinds instead (list
children.kinds for exact, tighter rules). Without --kubeconfig or --context, the resources of
kinds that are not built in are guessed (lower case, plural) and taken to be namespaced; the
output says which. With them, discovery resolves every kind exactly.

With --namespace, bosun is meant to run with 'bosun run --namespace' and gets a Role in that
namespace instead of cluster-wide rules (cluster-scoped kinds still need a ClusterRole).`,
		Example: `  bosun rbac --config examples/deploy/config/watches > rbac.yaml
  bosun rbac -c /etc/bosun/ --namespace team-a --kubeconfig ~/.kube/config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			discover := cmd.Flags().Changed("kubeconfig") || cmd.Flags().Changed("context")
			if !cmd.Flags().Changed("service-account-namespace") && o.Namespace != "" {
				o.ServiceAccountNamespace = o.Namespace
			}
			return runRBAC(o, discover, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "the namespace bosun runs for (bosun run --namespace): a Role there instead of a ClusterRole")
	f.StringVar(&o.Name, "name", "bosun", "name of the roles and bindings, and of bosun's ServiceAccount")
	f.StringVar(&o.ServiceAccountNamespace, "service-account-namespace", "bosun", "namespace of bosun's ServiceAccount and Lease (default: --namespace if given)")
	f.StringVar(&o.LeaseName, "leader-election-id", "bosun", "name of the leader-election Lease (bosun run --leader-election-id)")
	f.BoolVar(&o.Sharding, "sharding", false, "grant what bosun run --sharding needs on its Leases (membership Leases named after --leader-election-id, so list, watch and delete on leases in the ServiceAccount's namespace) instead of leader election's")
	f.BoolVar(&o.Workload, "workload-cluster", false, "print what bosun needs in a workload cluster that gets children (clusters:) instead of in the hub: the children's rules, bound to --name in --service-account-namespace there (the identity of the cluster Secret's kubeconfig)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "resolve kinds through this cluster's discovery instead of guessing")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to resolve kinds with")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runRBAC(o rbacOptions, discover bool, out io.Writer) error {
	watches, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	resolve := offlineResolver
	if discover {
		if resolve, err = discoveryResolver(o.kubeFlags); err != nil {
			return err
		}
	}
	rs, err := deriveRBAC(watches, o, resolve)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, rs.yaml(o))
	return err
}

// resolved is a kind with its resource and scope.
type resolved struct {
	Kind       schema.GroupKind
	Resource   string
	Namespaced bool
	// Guessed says why the resource and scope are a guess; empty when exact.
	Guessed string
}

// resolver resolves a kind; version is empty for the preferred version.
type resolver func(gk schema.GroupKind, version string) (resolved, error)

func offlineResolver(gk schema.GroupKind, _ string) (resolved, error) {
	res, namespaced, guessed := offlineResource(gk)
	r := resolved{Kind: gk, Resource: res, Namespaced: namespaced}
	if guessed {
		r.Guessed = "not a built-in kind"
	}
	return r, nil
}

// discoveryResolver resolves kinds through the cluster's discovery, and guesses for kinds the
// cluster does not serve (a CRD that is not installed yet).
func discoveryResolver(k kubeFlags) (resolver, error) {
	_, _, dc, err := k.reachableDiscovery()
	if err != nil {
		return nil, err
	}
	mapper := restmap.New(dc, 0)
	return func(gk schema.GroupKind, version string) (resolved, error) {
		var versions []string
		if version != "" {
			versions = []string{version}
		}
		m, err := mapper.RESTMapping(gk, versions...)
		if meta.IsNoMatchError(err) {
			r, _ := offlineResolver(gk, version)
			r.Guessed = "not served by the cluster"
			return r, nil
		}
		if err != nil {
			return resolved{}, fmt.Errorf("%s: %w", gk, err)
		}
		return resolved{Kind: gk, Resource: m.Resource.Resource, Namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}, nil
	}, nil
}

// chartCRDs names the CRDs in the crds/ directories of the charts of the watches that
// install them.
func chartCRDs(watches []*config.Watch) ([]string, error) {
	var names []string
	for _, w := range watches {
		if w.Chart == "" || w.CRDs != config.CRDsInstall {
			continue
		}
		src, err := newSource(w, capabilities{})
		if err != nil {
			return nil, err
		}
		for _, c := range src.(*renderer.ChartSet).Charts() {
			crds, err := c.CRDs()
			if err != nil {
				return nil, err
			}
			for _, crd := range crds {
				names = append(names, crd.GetName())
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// commonChildKinds are the rules for watches without children.kinds: the namespaced kinds
// templates render most (cluster-scoped children need children.clusterScoped and are never
// guessed).
var commonChildKinds = []schema.GroupKind{
	{Kind: "ConfigMap"}, {Kind: "PersistentVolumeClaim"}, {Kind: "Secret"}, {Kind: "Service"}, {Kind: "ServiceAccount"},
	{Group: "apps", Kind: "DaemonSet"}, {Group: "apps", Kind: "Deployment"}, {Group: "apps", Kind: "StatefulSet"},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"},
	{Group: "batch", Kind: "CronJob"}, {Group: "batch", Kind: "Job"},
	{Group: "networking.k8s.io", Kind: "Ingress"}, {Group: "networking.k8s.io", Kind: "NetworkPolicy"},
	{Group: "policy", Kind: "PodDisruptionBudget"},
}

// Verbs bosun uses, from what its code calls: owners are read by informers and patched (merge
// patch for the finalizer and inventory, JSON patch to drop the finalizer), never updated;
// status is written by server-side apply, a patch; children are server-side applied (a patch
// that may create, which the API server authorizes as create too), read by metadata informers
// and health checks, and deleted by prune. Events are created and patched when they repeat.
var (
	ownerVerbs      = []string{"get", "list", "watch", "patch"}
	statusVerbs     = []string{"patch"}
	finalizersVerbs = []string{"update"}
	childVerbs      = []string{"create", "delete", "get", "list", "patch", "watch"}
	eventVerbs      = []string{"create", "patch"}
)

// rule is one PolicyRule with a comment.
type rule struct {
	Comment   string
	Group     string
	Resources []string
	Verbs     []string
	Names     []string
}

// rbacSet is the rules for one ServiceAccount: cluster-wide, in the namespace bosun runs for
// (--namespace), and for the Lease.
type rbacSet struct {
	Watches []string
	Notes   []string
	Cluster []rule
	Local   []rule
	Lease   []rule
}

// deriveRBAC derives the rules for the watches.
func deriveRBAC(watches []*config.Watch, o rbacOptions, resolve resolver) (*rbacSet, error) {
	rs := &rbacSet{}
	remote := slices.ContainsFunc(watches, func(w *config.Watch) bool { return w.Clusters.Remote() })
	if o.Workload {
		return deriveWorkloadRBAC(watches, o, resolve)
	}
	place := func(namespaced bool, r rule) {
		if namespaced && o.Namespace != "" {
			rs.Local = append(rs.Local, r)
		} else {
			rs.Cluster = append(rs.Cluster, r)
		}
	}
	var guessed []string
	guess := func(r resolved) {
		if r.Guessed != "" {
			guessed = append(guessed, fmt.Sprintf("%s → %s (%s)", r.Kind, r.Resource, r.Guessed))
		}
	}

	for _, w := range watches {
		rs.Watches = append(rs.Watches, w.String())
		r, err := resolve(w.GVK.GroupKind(), w.GVK.Version)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", w.Name, err)
		}
		guess(r)
		place(r.Namespaced, rule{Comment: fmt.Sprintf("Owners of watch %s: read them; patch in the finalizer, ApplySet label and inventory annotations.", w.Name),
			Group: r.Kind.Group, Resources: []string{r.Resource}, Verbs: ownerVerbs})
		if w.Status.Enabled != config.StatusOff && offlineHasStatus(r.Kind) {
			place(r.Namespaced, rule{Comment: "Their status: the Applied and Ready conditions.",
				Group: r.Kind.Group, Resources: []string{r.Resource + "/status"}, Verbs: statusVerbs})
		}
		place(r.Namespaced, rule{Comment: "Children's ownerReferences block their deletion (OwnerReferencesPermissionEnforcement).",
			Group: r.Kind.Group, Resources: []string{r.Resource + "/finalizers"}, Verbs: finalizersVerbs})
	}

	children, anyKind, err := childResources(watches, resolve)
	if err != nil {
		return nil, err
	}
	for _, c := range children {
		guess(c)
	}
	comment := "Children: apply (create, patch), read, and delete when pruned." + anyKindNote(anyKind)
	for _, namespaced := range []bool{true, false} {
		for i, r := range groupRules(children, namespaced, childVerbs) {
			if i == 0 {
				r.Comment = comment
				if !namespaced {
					r.Comment = "Cluster-scoped children (children.clusterScoped)."
				}
			}
			place(namespaced, r)
		}
	}
	crds, err := chartCRDs(watches)
	if err != nil {
		return nil, err
	}
	if len(crds) > 0 {
		rs.Cluster = append(rs.Cluster,
			rule{Comment: "The CRDs of the charts' crds/ directories (crds: install): applied at start-up, never deleted.",
				Group: "apiextensions.k8s.io", Resources: []string{"customresourcedefinitions"}, Verbs: []string{"create"}},
			rule{Group: "apiextensions.k8s.io", Resources: []string{"customresourcedefinitions"}, Verbs: []string{"get", "patch"}, Names: crds})
	}
	if slices.ContainsFunc(watches, func(w *config.Watch) bool { return w.Chart != "" }) {
		rs.Notes = append(rs.Notes, "A chart that calls lookup reads what it names: grant get and list on those kinds (in the\nnamespaces children.namespaces allows) if the rules above do not cover them.")
	}
	place(true, rule{Comment: "Events about owners.", Group: "events.k8s.io", Resources: []string{"events"}, Verbs: eventVerbs})
	rs.Lease = []rule{
		{Comment: "Leader election (bosun run --leader-elect).", Group: "coordination.k8s.io", Resources: []string{"leases"}, Verbs: []string{"create"}},
		{Group: "coordination.k8s.io", Resources: []string{"leases"}, Verbs: []string{"get", "update"}, Names: []string{o.LeaseName}},
	}
	if o.Sharding {
		// Member Leases are named after each replica's identity, which is not known ahead.
		rs.Lease = []rule{{Comment: "Sharding (bosun run --sharding): a membership Lease per replica and the shard map, " + o.LeaseName + "-*.",
			Group: "coordination.k8s.io", Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "delete"}}}
	}

	if remote {
		rs.Lease = append(rs.Lease,
			rule{Comment: "Workload cluster Secrets (clusters:): the kubeconfig Secrets in bosun's namespace (bosun run --clusters-namespace).",
				Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}})
		rs.Cluster = append(rs.Cluster, rule{Comment: "ClusterProfiles (bosun run --cluster-access-providers); not needed without them.",
			Group: "multicluster.x-k8s.io", Resources: []string{"clusterprofiles"}, Verbs: []string{"get", "list", "watch"}})
		rs.Notes = append(rs.Notes, "Watches send children to workload clusters: the rules above are the hub's. Print what bosun\nneeds in each workload cluster with: bosun rbac --workload-cluster")
	}
	if len(guessed) > 0 {
		sort.Strings(guessed)
		rs.Notes = append(rs.Notes, "Resources and scopes guessed (lower-case plural, namespaced), as no cluster was asked:\n  "+
			strings.Join(slices.Compact(guessed), "\n  ")+
			"\nCheck them against each CRD's spec.names.plural and spec.scope, or run with --kubeconfig.")
	}
	if slices.ContainsFunc(children, func(r resolved) bool { return r.Kind.Group == "rbac.authorization.k8s.io" }) {
		rs.Notes = append(rs.Notes, "Children include RBAC objects: the API server lets bosun create a role or binding only for\npermissions bosun holds itself, unless it may escalate and bind. Grant those deliberately.")
	}
	rs.Notes = append(rs.Notes, "The orphan sweep at start-up lists every resource type and skips those these rules do not\nlet bosun list: it finds orphaned children of the kinds above only.")
	if o.Namespace != "" {
		rs.Notes = append(rs.Notes, fmt.Sprintf("For bosun run --namespace %s: children in other namespaces (children.namespaces) are not covered.", o.Namespace))
	}
	return rs, nil
}

// childResources resolves the children's kinds of every watch, and names the watches that do
// not list children.kinds (for which commonChildKinds stand in).
func childResources(watches []*config.Watch, resolve resolver) ([]resolved, []string, error) {
	seen := map[schema.GroupKind]bool{}
	var (
		out     []resolved
		anyKind []string
	)
	add := func(gk schema.GroupKind, clusterScopedOK bool) error {
		if seen[gk] {
			return nil
		}
		r, err := resolve(gk, "")
		if err != nil {
			return err
		}
		// The child policy refuses cluster-scoped children unless the watch allows them.
		if !r.Namespaced && !clusterScopedOK {
			return nil
		}
		seen[gk] = true
		out = append(out, r)
		return nil
	}
	for _, w := range watches {
		kinds := w.Children.Kinds
		if len(kinds) == 0 {
			anyKind = append(anyKind, w.Name)
			kinds = commonChildKinds
		}
		for _, gk := range kinds {
			if err := add(gk, w.Children.ClusterScoped); err != nil {
				return nil, nil, fmt.Errorf("watch %s: children.kinds: %w", w.Name, err)
			}
		}
	}
	return out, anyKind, nil
}

// groupRules makes one rule per API group of the resources of the given scope, groups and
// resources sorted.
func groupRules(rs []resolved, namespaced bool, verbs []string) []rule {
	byGroup := map[string][]string{}
	for _, r := range rs {
		if r.Namespaced == namespaced {
			byGroup[r.Kind.Group] = append(byGroup[r.Kind.Group], r.Resource)
		}
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	rules := make([]rule, 0, len(groups))
	for _, g := range groups {
		res := byGroup[g]
		sort.Strings(res)
		rules = append(rules, rule{Group: g, Resources: slices.Compact(res), Verbs: verbs})
	}
	return rules
}

// deriveWorkloadRBAC derives the rules bosun needs in a workload cluster: it applies, reads,
// watches and deletes the children of the watches that send children to other clusters there,
// and reads discovery (every authenticated identity may). No owners, Events or Leases live
// there.
func deriveWorkloadRBAC(watches []*config.Watch, o rbacOptions, resolve resolver) (*rbacSet, error) {
	var remote []*config.Watch
	for _, w := range watches {
		if w.Clusters.Remote() {
			remote = append(remote, w)
		}
	}
	if len(remote) == 0 {
		return nil, errors.New("--workload-cluster: no watch sends children to other clusters (clusters: in a watch config)")
	}
	rs := &rbacSet{}
	children, anyKind, err := childResources(remote, resolve)
	if err != nil {
		return nil, err
	}
	for _, w := range remote {
		rs.Watches = append(rs.Watches, w.String())
	}
	comment := "Children in this workload cluster: apply (create, patch), read, watch, and delete." + anyKindNote(anyKind)
	for _, namespaced := range []bool{true, false} {
		for i, r := range groupRules(children, namespaced, childVerbs) {
			if i == 0 {
				r.Comment = comment
			}
			rs.Cluster = append(rs.Cluster, r)
		}
	}
	rs.Notes = append(rs.Notes, fmt.Sprintf("For a workload cluster: bind these to the identity of its cluster Secret's kubeconfig (here the\nServiceAccount %s/%s). The children's namespaces must exist there, or be rendered.", o.ServiceAccountNamespace, o.Name))
	return rs, nil
}

// anyKindNote says, in a rule's comment, which watches list no children.kinds.
func anyKindNote(anyKind []string) string {
	if len(anyKind) == 0 {
		return ""
	}
	return fmt.Sprintf("\nWatch %s lists no children.kinds, so its templates may render any kind: these are\ncommon kinds. List children.kinds in the watch config for exact, tighter rules.", strings.Join(anyKind, ", "))
}
