package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/bosun-dev/bosun/renderer"
	"io"
	"k8s.io/client-go/rest"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/watcher"
)

// placeholderUID stands in for the UID of an owner that does not exist in the cluster yet.
const placeholderUID = "00000000-0000-0000-0000-000000000000"

// diffOptions are the flags of diff.
type diffOptions struct {
	ConfigPath string
	Watch      string
	Files      []string
	Namespace  string
	// AllNamespaces diffs the owners of every namespace when no file is given.
	AllNamespaces bool
	// Cluster is the workload cluster whose children are compared (clusters:), by its cluster
	// Secret or ClusterProfile in the hub; default the hub itself.
	Cluster string
	ClusterSources
	kubeFlags
}

func newDiffCommand() *cobra.Command {
	o := diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --config WATCH.yaml -f OWNER.yaml",
		Short: "Show what bosun would change in the cluster for owners from files",
		Long: `Render the children of owners read from files and compare them with the cluster: every
child is server-side applied with dry-run, as bosun applies it (field manager "bosun", force),
and the result is compared with the live child. Prints a unified diff per child that would
change, new children in full, and the children bosun would prune. Nothing is changed.

An owner that exists in the cluster (same kind, namespace and name) lends the file its UID, so
the children compare as bosun would render them once the file is applied, and its status if
the file has none. An owner that does not exist yet is rendered with a placeholder UID.

Status and the metadata the API server maintains (managedFields, resourceVersion, generation,
uid, creationTimestamp) are not compared.

Exit status, as kubectl diff: 0 no differences, 1 differences, 2 an error.`,
		Example: `  bosun diff --config examples/site/watch.yaml -f examples/site/site.yaml
  bosun diff -c /etc/bosun/ --watch sites -f site.yaml --context staging`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{errorExitCodeAnnotation: "2"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			differs, err := runDiff(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			switch {
			case err != nil:
				return err
			case differs:
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them")
	f.StringVar(&o.Watch, "watch", "", "the watch to use when --config holds several (its name)")
	f.StringArrayVarP(&o.Files, "filename", "f", nil, `file of owners (multi-document YAML or JSON, a v1 List too); "-" reads stdin; repeatable. Without it: every owner of the watch in the cluster`)
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "without -f: the watch's owners in every namespace (default: --namespace, or the context's)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of owners that have none (default: the kubeconfig context's)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	f.StringVar(&o.Cluster, "cluster", config.LocalCluster, "compare the children in this workload cluster (clusters:), known to the hub by its cluster Secret or ClusterProfile; the owners stay the hub's")
	addClusterFlags(f, &o.ClusterSources)
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// differ holds what diffing one owner needs.
type differ struct {
	watch      *config.Watch
	renderer   source
	applier    *applier.Manager
	owners     dynamic.NamespaceableResourceInterface
	namespaced bool
	namespace  string // for owners without one
	stdout     io.Writer
	stderr     io.Writer
	// cluster is what the templates see of the cluster the children are compared in.
	cluster *renderer.Cluster
	// quiet: only owners whose children would change get a summary line (every owner of a
	// watch is diffed); progress is cleared before any output.
	quiet    bool
	progress *progress
}

// runDiff diffs every owner of o.Files; differs reports whether any child would change.
func runDiff(ctx context.Context, o diffOptions, stdin io.Reader, stdout, stderr io.Writer) (differs bool, err error) {
	w, r, err := loadWatch(o.ConfigPath, o.Watch, capabilities{})
	if err != nil {
		return false, err
	}
	var owners []owner
	if len(o.Files) > 0 {
		if owners, err = readAllOwners(w, o.Files, stdin); err != nil {
			return false, err
		}
	}
	cfg, ns, err := o.clientConfig()
	if err != nil {
		return false, err
	}
	if o.Namespace != "" {
		ns = o.Namespace
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("discovery client: %w", err)
	}
	if err := reachable(dc, cfg); err != nil {
		return false, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("metadata client: %w", err)
	}
	mapper := restmap.New(dc, 0)
	mapping, err := mapper.RESTMapping(w.GVK.GroupKind(), w.GVK.Version)
	if err != nil {
		return false, fmt.Errorf("watch %s: kind %s is not served by the API server (is its CRD installed?): %w", w.Name, config.GVKString(w.GVK), err)
	}
	caps, err := clusterCapabilities(dc)
	if err != nil {
		return false, err
	}
	if r, err = withCluster(r, w, caps, dyn, mapper); err != nil {
		return false, err
	}
	children, cluster, err := o.childrenCluster(ctx, w, cfg, applier.New(dyn, md, mapper, applier.Options{OwnerLabels: shard.ChildLabels()}))
	if err != nil {
		return false, err
	}
	d := differ{
		watch:      w,
		renderer:   r,
		cluster:    cluster,
		applier:    children,
		owners:     dyn.Resource(mapping.Resource),
		namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace,
		namespace:  ns,
		stdout:     stdout,
		stderr:     stderr,
	}
	if len(o.Files) == 0 {
		// The watch's owners in the cluster: what a template change would do to them.
		d.quiet = true
		if !d.namespaced || o.AllNamespaces {
			ns = metav1.NamespaceAll
		}
		if owners, err = liveOwners(ctx, w, d.owners, ns); err != nil {
			return false, err
		}
	}
	var errs []error
	prog := newProgress(stderr, "diff", len(owners))
	d.progress = prog
	changedOwners := 0
	for _, ow := range owners {
		changed, err := d.diff(ctx, ow)
		prog.step()
		differs = differs || changed
		if changed {
			changedOwners++
		}
		if err != nil {
			prog.clear()
			errs = append(errs, fmt.Errorf("%s: %w", ow.Source, err))
		}
	}
	prog.clear()
	if d.quiet {
		fmt.Fprintf(stderr, "diff: %d of %d owners of watch %s would change\n", changedOwners, len(owners), w.Name)
	}
	return differs, errors.Join(errs...)
}

// liveOwners are the owners of the watch in the cluster (in ns, "" for all), as its selector
// and namespaces cover them.
func liveOwners(ctx context.Context, w *config.Watch, ri dynamic.NamespaceableResourceInterface, ns string) ([]owner, error) {
	var out []owner
	opts := metav1.ListOptions{LabelSelector: w.SelectorText, Limit: 500}
	for {
		list, err := ri.Namespace(ns).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("watch %s: list %s: %w", w.Name, config.GVKString(w.GVK), err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if len(w.Namespaces) > 0 && !slices.Contains(w.Namespaces, o.GetNamespace()) {
				continue
			}
			out = append(out, owner{Source: applier.OwnerRef(o), Object: o})
		}
		if list.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = list.GetContinue()
	}
}

// diff prints the differences of one owner's children and a summary line on stderr.
func (d *differ) diff(ctx context.Context, ow owner) (bool, error) {
	obj := ow.Object
	switch {
	case !d.namespaced:
		obj.SetNamespace("")
	case obj.GetNamespace() == "":
		obj.SetNamespace(d.namespace)
	}
	ref := applier.OwnerRef(obj)
	for _, note := range watchNotes(d.watch, ow) {
		fmt.Fprintln(d.stderr, "note:", note)
	}
	recorded, err := d.adoptLive(ctx, obj)
	if err != nil {
		return false, err
	}
	if recorded == nil {
		fmt.Fprintf(d.stderr, "note: %s: %s does not exist in the cluster: rendered with a placeholder UID\n", ow.Source, ref)
		recorded = &applier.Inventory{}
	}
	rendered, err := render(renderer.WithCluster(ctx, d.cluster), d.watch, d.renderer, obj)
	if err != nil {
		return false, err
	}
	plan, err := d.applier.Plan(obj, rendered, watcher.ApplierPolicy(d.watch.Children))
	if err != nil {
		return false, fmt.Errorf("%s: %w", ref, err)
	}
	diffs, diffErr := d.applier.Diff(ctx, plan, recorded.Union(plan.Inventory).Kinds)
	counts := map[applier.Action]int{}
	for _, df := range diffs {
		counts[df.Action]++
		if df.Action == applier.Unchanged {
			continue
		}
		d.progress.clear()
		if err := writeDiff(d.stdout, df); err != nil {
			return false, err
		}
	}
	changed := len(diffs) > counts[applier.Unchanged]
	if changed || !d.quiet {
		d.progress.clear()
		fmt.Fprintf(d.stderr, "%s: %s\n", ref, summary(counts))
	}
	if diffErr != nil {
		return false, fmt.Errorf("%s: %w", ref, diffErr)
	}
	return changed, nil
}

// adoptLive gives obj the UID of the live owner of its name, and its status if obj has none,
// and returns the live owner's inventory; nil when there is no live owner, in which case obj
// gets the placeholder UID.
func (d *differ) adoptLive(ctx context.Context, obj *unstructured.Unstructured) (*applier.Inventory, error) {
	var ri dynamic.ResourceInterface = d.owners
	if d.namespaced {
		ri = d.owners.Namespace(obj.GetNamespace())
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj.SetUID(placeholderUID)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: get: %w", applier.OwnerRef(obj), err)
	}
	obj.SetUID(live.GetUID())
	if _, ok := obj.Object["status"]; !ok {
		if status, ok := live.Object["status"]; ok {
			obj.Object["status"] = status
		}
	}
	inv := applier.InventoryOf(live)
	return &inv, nil
}

// summary counts the children per action, e.g. "1 to configure, 2 unchanged".
func summary(counts map[applier.Action]int) string {
	var parts []string
	for _, a := range []struct {
		action applier.Action
		phrase string
	}{
		{applier.Created, "to create"},
		{applier.Configured, "to configure"},
		{applier.Recreated, "to re-create"},
		{applier.Pruned, "to prune"},
		{applier.Unchanged, "unchanged"},
	} {
		if n := counts[a.action]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a.phrase))
		}
	}
	if len(parts) == 0 {
		return "no children"
	}
	return strings.Join(parts, ", ")
}

// childrenCluster is the applier of the cluster whose children are compared, and what the
// templates see of it: the hub's own, or a workload cluster's from the hub's cluster Secret or
// ClusterProfile, read as bosun run reads it.
func (o diffOptions) childrenCluster(ctx context.Context, w *config.Watch, hub *rest.Config, local *applier.Manager) (*applier.Manager, *renderer.Cluster, error) {
	if o.Cluster == "" || o.Cluster == config.LocalCluster {
		return local, &renderer.Cluster{Name: config.LocalCluster}, nil
	}
	cl, err := o.ClusterSources.workload(ctx, hub, o.Cluster)
	if err != nil {
		return nil, nil, err
	}
	rc := &renderer.Cluster{Name: cl.Name, Labels: cl.Labels, Key: cl.Name + "@" + cl.Revision, KubeVersion: cl.KubeVersion, APIVersions: cl.APIVersions,
		Lookup: cl.Lookup(w)}
	return applier.New(cl.Dynamic, cl.Metadata, cl.Mapper, applier.Options{OwnerLabels: shard.ChildLabels(), Remote: true}), rc, nil
}
