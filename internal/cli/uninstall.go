package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/internal/shard"
)

// uninstallOptions are the flags of uninstall.
type uninstallOptions struct {
	ConfigPath   string
	Namespace    string
	KeepChildren bool
	// ClusterSources find the workload clusters owners recorded (bosun.dev/clusters).
	ClusterSources
	kubeFlags
}

func newUninstallCommand() *cobra.Command {
	o := uninstallOptions{}
	cmd := &cobra.Command{
		Use:   "uninstall --config PATH",
		Short: "Release every owner of the watch configs: delete (or keep) their children, remove bosun's finalizer",
		Long: `Release every owner of the kinds the watch configs watch, so that bosun can be removed from
the cluster without leaving anything behind or stuck: the children of each owner are deleted
(with --keep-children they stay, let go: bosun's labels and ownerReferences removed, so that
neither bosun nor the garbage collector deletes them), then bosun's finalizer is removed from
the owner, so that deleting it no longer waits for bosun.

An owner is every object of a watched kind that carries bosun's finalizer or inventory, in
every namespace — whatever the watches' selectors and namespaces say, so that owners that left
a watch are released too. --namespace restricts it to owners in one namespace (for example
when another bosun runs the same kind in other namespaces). Delete hooks do not run: the
owners are let go, not deleted.

Stop bosun first (scale its Deployment to 0): a running bosun would take the owners back. Then
remove its Deployment, RBAC and configs. Running uninstall again changes nothing more.

Prints one line per child deleted or kept and one per owner; exits 1 if anything failed.`,
		Example: `  bosun uninstall --config /etc/bosun/
  bosun uninstall -c examples/site/watch.yaml --keep-children --namespace team-a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUninstall(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them")
	f.BoolVar(&o.KeepChildren, "keep-children", false, "keep the children, owned by nobody, instead of deleting them")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "release only the owners in this namespace (default: all namespaces)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	addClusterFlags(f, &o.ClusterSources)
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// uninstaller releases the owners of one kind after another.
type uninstaller struct {
	o       uninstallOptions
	meta    metadata.Interface
	mapper  meta.RESTMapper
	applier *applier.Manager
	out     io.Writer
	// seen holds the owners released (or found with nothing to do) so far: two watches of
	// one kind find the same owners.
	seen map[types.UID]bool
	// prog counts the owners done, on a terminal.
	prog *progress
	// workloads builds the applier of a workload cluster; remote holds those built.
	workloads func(ctx context.Context, name string) (*applier.Manager, error)
	remote    map[string]*applier.Manager
}

// uninstallCounts sums up what uninstall did.
type uninstallCounts struct {
	released, untouched, deleted, kept int
}

// runUninstall releases the owners of every kind the configs watch.
func runUninstall(ctx context.Context, o uninstallOptions, out, stderr io.Writer) error {
	watches, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	cfg, _, err := o.clientConfig()
	if err != nil {
		return err
	}
	// Like run: no client-side rate limit against an API server with API Priority and
	// Fairness; this also checks that the server is reachable.
	if err := tuneRateLimit(cfg, 0, 0); err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("metadata client: %w", err)
	}
	mapper := restmap.New(dc, 0)
	u := &uninstaller{o: o, prog: newProgress(stderr, "uninstall", 0), meta: md, mapper: mapper, applier: applier.New(dyn, md, mapper, applier.Options{OwnerLabels: shard.ChildLabels()}), out: out, seen: map[types.UID]bool{},
		workloads: func(ctx context.Context, name string) (*applier.Manager, error) {
			return o.ClusterSources.workloadApplier(ctx, cfg, name)
		}}
	var (
		errs  []error
		total uninstallCounts
		done  []schema.GroupKind
	)
	for _, w := range watches {
		if slices.Contains(done, w.GVK.GroupKind()) {
			continue
		}
		done = append(done, w.GVK.GroupKind())
		n, err := u.kind(ctx, w)
		total.released += n.released
		total.untouched += n.untouched
		total.deleted += n.deleted
		total.kept += n.kept
		if err != nil {
			errs = append(errs, err)
		}
	}
	u.prog.clear()
	fmt.Fprintf(out, "uninstall: %d owners released (%d children deleted, %d kept), %d with nothing to do\n",
		total.released, total.deleted, total.kept, total.untouched)
	return errors.Join(errs...)
}

// kind releases the owners of the watch's kind; one owner's failure does not stop the others.
func (u *uninstaller) kind(ctx context.Context, w *config.Watch) (uninstallCounts, error) {
	var n uninstallCounts
	mapping, err := u.mapper.RESTMapping(w.GVK.GroupKind(), w.GVK.Version)
	if meta.IsNoMatchError(err) {
		fmt.Fprintf(u.out, "watch %s: kind %s is not served by the API server: no owners\n", w.Name, config.GVKString(w.GVK))
		return n, nil
	}
	if err != nil {
		return n, fmt.Errorf("watch %s: %s: %w", w.Name, config.GVKString(w.GVK), err)
	}
	ns := metav1.NamespaceAll
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = u.o.Namespace
	}
	var errs []error
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := u.meta.Resource(mapping.Resource).Namespace(ns).List(ctx, opts)
		if err != nil {
			return n, errors.Join(append(errs, fmt.Errorf("watch %s: %s: list: %w", w.Name, mapping.Resource, err))...)
		}
		for i := range list.Items {
			owner := applier.OwnerFromMetadata(w.GVK, &list.Items[i])
			if u.seen[owner.GetUID()] || !bosunOwner(owner) {
				continue
			}
			u.seen[owner.GetUID()] = true
			if err := u.release(ctx, owner, mapping.Resource, &n); err != nil {
				errs = append(errs, err)
			}
		}
		if list.Continue == "" {
			return n, errors.Join(errs...)
		}
		opts.Continue = list.Continue
	}
}

// release deletes (or lets go) the children of one owner, then removes bosun's finalizer from
// it; the finalizer stays when a child could not be deleted, as a running bosun would keep it.
func (u *uninstaller) release(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, n *uninstallCounts) error {
	ref := applier.OwnerRef(owner)
	u.prog.clear()
	defer u.prog.step()
	inv := applier.InventoryOf(owner)
	var changes applier.ChangeSet
	var errs []error
	for _, cluster := range inv.Clusters {
		got, err := u.releaseIn(ctx, owner, inv, cluster)
		changes = append(changes, got...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
		}
	}
	err := errors.Join(errs...)
	deleted, kept := 0, 0
	for _, ch := range changes {
		fmt.Fprintf(u.out, "%s %s\n", ch.Ref, ch.Action)
		if ch.Action == applier.Kept {
			kept++
		} else {
			deleted++
		}
	}
	n.deleted += deleted
	n.kept += kept
	if err != nil {
		return err
	}
	hadFinalizer := slices.Contains(owner.GetFinalizers(), applier.Finalizer)
	if err := u.applier.ReleaseOwner(ctx, owner, gvr); err != nil {
		return err
	}
	if !hadFinalizer && len(changes) == 0 {
		n.untouched++
		fmt.Fprintf(u.out, "%s: nothing to do (no children, no finalizer)\n", ref)
		return nil
	}
	n.released++
	done := fmt.Sprintf("%d children deleted, %d kept", deleted, kept)
	if hadFinalizer {
		done += ", finalizer removed"
	}
	fmt.Fprintf(u.out, "%s released: %s\n", ref, done)
	return nil
}

// releaseIn deletes (or lets go) the owner's children in one cluster it recorded.
func (u *uninstaller) releaseIn(ctx context.Context, owner *unstructured.Unstructured, inv applier.Inventory, cluster string) (applier.ChangeSet, error) {
	ap := u.applier
	if cluster != config.LocalCluster {
		var err error
		if ap, err = u.workloadApplier(ctx, cluster); err != nil {
			return nil, err
		}
	}
	children, err := ap.Children(ctx, owner.GetUID(), inv.Kinds)
	if err != nil {
		return nil, err
	}
	if u.o.KeepChildren {
		return ap.LetGoAll(ctx, children)
	}
	return ap.DeleteAll(ctx, children)
}

// workloadApplier is the applier of a workload cluster, built once.
func (u *uninstaller) workloadApplier(ctx context.Context, name string) (*applier.Manager, error) {
	if ap, ok := u.remote[name]; ok {
		return ap, nil
	}
	ap, err := u.workloads(ctx, name)
	if err != nil {
		// The finalizer stays: its children there are still to be deleted.
		return nil, fmt.Errorf("%w (is its Secret in --clusters-namespace, or its ClusterProfile in --cluster-profiles-namespace?)", err)
	}
	if u.remote == nil {
		u.remote = map[string]*applier.Manager{}
	}
	u.remote[name] = ap
	return ap, nil
}

// bosunOwner reports whether bosun ever took the object as an owner: it carries bosun's
// finalizer or bosun's inventory.
func bosunOwner(o *unstructured.Unstructured) bool {
	return slices.Contains(o.GetFinalizers(), applier.Finalizer) ||
		o.GetAnnotations()[applier.AnnotationApplySetTooling] == applier.ToolingValue
}
