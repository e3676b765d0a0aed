package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/clusters"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/watcher"
)

// ClusterSources say where bosun finds the workload clusters that children may go to.
type ClusterSources struct {
	// SecretNamespace holds the cluster Secrets; default: bosun's namespace.
	SecretNamespace string
	// ProfileNamespace is where ClusterProfiles are read; "" reads all namespaces.
	ProfileNamespace string
	// ProviderFile is the KEP-5339 access providers file; "" leaves ClusterProfiles unused.
	ProviderFile string
	// AllowExec lets kubeconfigs from Secrets run exec credential plugins.
	AllowExec bool
}

func addClusterFlags(f *pflag.FlagSet, c *ClusterSources) {
	f.StringVar(&c.SecretNamespace, "clusters-namespace", "", "namespace of the workload cluster Secrets (a kubeconfig under key value or value.yaml; label bosun.dev/secret-type: cluster to have their problems reported); default: the pod's namespace, else default")
	f.StringVar(&c.ProfileNamespace, "cluster-profiles-namespace", "", "namespace of the ClusterProfiles (multicluster.x-k8s.io) to use; empty: all namespaces")
	f.StringVar(&c.ProviderFile, "cluster-access-providers", "", "access providers file (KEP-5339, cluster-inventory-api's format) that turns ClusterProfiles into credentials; without it ClusterProfiles are not used")
	f.BoolVar(&c.AllowExec, "allow-kubeconfig-exec", false, "let kubeconfigs from cluster Secrets run exec credential plugins and auth-providers in bosun's pod (refused by default)")
}

// registrySyncTimeout bounds the wait for the cluster Secrets and ClusterProfiles to be read
// before the watches start: an owner must not be judged against a registry still empty.
const registrySyncTimeout = time.Minute

// start runs the registry of workload clusters when a watch may send children to one, and
// returns the watcher's view of it once it has read every source; nil when no watch needs one.
func (c ClusterSources) start(ctx context.Context, watches []watcher.Watch, cfg *rest.Config, changed func(string),
	tune func(*rest.Config) (*rest.Config, error), instance string, log *zap.Logger) (*workloadClusters, error) {
	if !slices.ContainsFunc(watches, func(w watcher.Watch) bool { return w.Clusters.Remote() }) {
		return nil, nil
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	ns := c.SecretNamespace
	if ns == "" {
		ns = podNamespace()
	}
	wc := &workloadClusters{tune: tune, instance: instance, built: map[string]*watcher.Cluster{}}
	reg, err := clusters.New(clusters.Options{
		Client: cs, Dynamic: dyn, SecretNamespace: ns, ProfileNamespace: c.ProfileNamespace,
		ProviderFile: c.ProviderFile, AllowExec: c.AllowExec, Changed: changed,
	})
	if err != nil {
		return nil, fmt.Errorf("workload clusters: %w", err)
	}
	wc.reg = reg
	go reg.Run(ctx)
	sctx, cancel := context.WithTimeout(ctx, registrySyncTimeout)
	defer cancel()
	if !reg.WaitForSync(sctx) {
		return nil, fmt.Errorf("workload clusters: the cluster Secrets in namespace %s (and ClusterProfiles) were not read within %s: can bosun list and watch them?", ns, registrySyncTimeout)
	}
	for name, err := range reg.Problems() {
		log.Warn("workload cluster unusable", zap.String("cluster", name), zap.Error(err))
	}
	log.Info("workload clusters", zap.String("secretsNamespace", ns), zap.Strings("clusters", reg.Names()), zap.Bool("clusterProfiles", reg.ProfilesWatched()))
	return wc, nil
}

// workload reads one workload cluster from the hub's Secrets and profiles, as bosun run does,
// for a command that works on it once (diff, uninstall).
func (c ClusterSources) workload(ctx context.Context, hub *rest.Config, name string) (*watcher.Cluster, error) {
	wc, err := c.start(ctx, []watcher.Watch{{Watch: &config.Watch{Clusters: config.ClusterPolicy{Allowed: []string{"*"}}}}}, hub, func(string) {},
		func(c *rest.Config) (*rest.Config, error) { return c, nil }, "", zap.NewNop())
	if err != nil {
		return nil, err
	}
	cl, err := wc.Cluster(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	return cl, nil
}

// workloadApplier is an applier of the children in one workload cluster.
func (c ClusterSources) workloadApplier(ctx context.Context, hub *rest.Config, name string) (*applier.Manager, error) {
	cl, err := c.workload(ctx, hub, name)
	if err != nil {
		return nil, err
	}
	return applier.New(cl.Dynamic, cl.Metadata, cl.Mapper, applier.Options{OwnerLabels: shard.ChildLabels(), Remote: true}), nil
}
