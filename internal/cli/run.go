package cli

import (
	"context"
	"errors"
	"fmt"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	eventsv1 "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/metrics"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/renderer"
	"github.com/bosun-dev/bosun/watcher"
)

// RunOptions configure one run of the controller.
type RunOptions struct {
	ConfigPath string
	Kubeconfig string
	Context    string
	Namespace  string
	// RESTConfig, when set, is used instead of loading a kubeconfig (tests).
	RESTConfig      *rest.Config
	QPS             float32
	Burst           int
	Compression     bool
	ShutdownTimeout time.Duration
	// WatchDownThreshold is how long an owner or child watch may be down before /readyz fails.
	WatchDownThreshold time.Duration
	// Instance names this installation (see resolveInstance); empty: from the Lease's name.
	Instance       string
	LeaderElection LeaderElection
	// Sharding makes every replica active, each on its share of the owners; the Leases are
	// named and timed by LeaderElection's settings (its Enabled must be false).
	Sharding bool
	// Clusters says where the workload clusters' credentials come from.
	Clusters ClusterSources
	// MetricsAddr and HealthAddr are where /metrics and /healthz, /readyz are served; empty
	// serves nothing.
	MetricsAddr string
	HealthAddr  string
	// Profiling serves net/http/pprof next to /metrics.
	Profiling bool
	Log       *zap.Logger
}

func newRunCommand() *cobra.Command {
	o := RunOptions{}
	var level, format string
	cmd := &cobra.Command{
		Use:   "run --config PATH",
		Short: "Run the controller: watch, render, apply, prune",
		Example: `  bosun run --config examples/site/watch.yaml
  bosun run --config /etc/bosun/ --namespace team-a --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(level, format)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			routeKlog(log)
			o.Log = log
			tuneGC()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return Run(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them (*.yaml, *.yml)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "restrict every watch, and the children bosun reads, to this namespace")
	f.Float32Var(&o.QPS, "kube-api-qps", 0, "client-side limit of requests per second to the API server (0: none when the server runs API Priority and Fairness, else 50; negative: none)")
	f.IntVar(&o.Burst, "kube-api-burst", 100, "client-side burst of requests to the API server, with --kube-api-qps")
	f.BoolVar(&o.Compression, "kube-api-compression", false, "ask the API server to gzip large responses (lists); off, bosun and the API server save the CPU, which costs more than the bytes unless the API server is far away")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight reconciles may finish after SIGINT/SIGTERM")
	f.DurationVar(&o.WatchDownThreshold, "watch-down-threshold", watcher.DefaultWatchDownThreshold, "how long an owner or child watch may have no connection open before /readyz fails (bosun_watch_up shows it at once)")
	f.StringVar(&o.Instance, "instance", "", "name of this bosun installation, written on every owner it reconciles (bosun.dev/instance); a bosun lets go only owners that carry its own (default: <leader-election-namespace>/<leader-election-id>)")
	addLeaderElectionFlags(f, &o.LeaderElection)
	addClusterFlags(f, &o.Clusters)
	f.BoolVar(&o.Sharding, "sharding", false, "run several active replicas, each reconciling its share of the owners; membership Leases are named by --leader-election-id in --leader-election-namespace and timed by the --leader-election-* durations")
	f.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", "address of the Prometheus /metrics endpoint (empty or 0: off)")
	f.StringVar(&o.HealthAddr, "health-addr", ":8081", "address of the /healthz and /readyz endpoints (empty or 0: off)")
	f.BoolVar(&o.Profiling, "profiling", false, "serve Go's pprof profiles at /debug/pprof/ on --metrics-addr")
	f.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&format, "log-format", "console", "json or console")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// Run loads and validates every watch config and template, then runs the controller until
// ctx is done. Bad configs or templates fail here, before the cluster is contacted.
func Run(ctx context.Context, o RunOptions) error {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	watches, err := loadWatches(o.ConfigPath)
	if err != nil {
		return err
	}
	instance, err := resolveInstance(o)
	if err != nil {
		return err
	}
	cfg, err := restConfig(o)
	if err != nil {
		return err
	}
	if err := tuneRateLimit(cfg, o.QPS, o.Burst); err != nil {
		return err
	}
	// With leader election, every client that writes goes through the fence: only a replica
	// that can prove it leads writes. The Lease's own client does not: it must keep renewing.
	le := o.LeaderElection
	if le.Enabled && o.Sharding {
		return errors.New("--leader-elect and --sharding exclude each other: with --sharding every replica is active, on its share of the owners")
	}
	if o.Sharding && !(le.LeaseDuration > le.RenewDeadline && le.RenewDeadline > le.RetryPeriod && le.RetryPeriod > 0) {
		return fmt.Errorf("sharding: want lease duration > renew deadline > retry period > 0, got %s, %s, %s", le.LeaseDuration, le.RenewDeadline, le.RetryPeriod)
	}
	var fenced *fence
	writes := cfg
	if le.Enabled || o.Sharding {
		fenced = newFence(clock.RealClock{}, le.LeaseDuration, le.RenewDeadline)
		writes = rest.CopyConfig(cfg)
		writes.Wrap(fenced.wrap)
	}
	dyn, err := dynamic.NewForConfig(writes)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	meta, err := metadata.NewForConfig(writes)
	if err != nil {
		return fmt.Errorf("metadata client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	// Only the two typed clients bosun needs: the whole clientset would link every API
	// group's client into the binary, and its resident size is most of bosun's memory.
	ev, err := eventsv1.NewForConfig(writes)
	if err != nil {
		return fmt.Errorf("events client: %w", err)
	}
	coord, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("coordination client: %w", err)
	}

	// Events go out through client-go's broadcaster, which folds repeats into series.
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: ev})
	broadcaster.StartRecordingToSink(ctx.Done())
	defer broadcaster.Shutdown()

	mapper := restmap.New(dc, 0)
	if watches, err = forCluster(ctx, watches, dc, dyn, mapper, log); err != nil {
		return err
	}
	b := currentBuild()
	m := metrics.New(b.Version, b.Commit)
	wopts := watcher.Options{
		Metrics:            m,
		Log:                log,
		Dynamic:            dyn,
		Metadata:           meta,
		Protobuf:           writes,
		Discovery:          dc,
		Mapper:             mapper,
		Applier:            applier.New(dyn, meta, mapper, applier.Options{Instance: instance, OwnerLabels: shard.ChildLabels()}),
		Events:             broadcaster.NewRecorder(scheme.Scheme, "bosun"),
		Namespace:          o.Namespace,
		Instance:           instance,
		ShutdownTimeout:    o.ShutdownTimeout,
		WatchDownThreshold: o.WatchDownThreshold,
	}
	var elected *election
	var sharded *sharding
	switch {
	case le.Enabled:
		if elected, err = newElection(coord, le, fenced, log, m.Leader); err != nil {
			return err
		}
		wopts.Elected = elected.leading
		wopts.Fenced = fenced.Closed()
	case o.Sharding:
		fencedCoord, err := coordinationv1.NewForConfig(writes)
		if err != nil {
			return fmt.Errorf("coordination client: %w", err)
		}
		if sharded, err = newSharding(coord, fencedCoord, le, fenced, log, m); err != nil {
			return err
		}
		wopts.Sharded = true
		wopts.Members = sharded.coord.Members
		wopts.Fenced = fenced.Closed()
		m.Leader.Set(1)
	default:
		m.Leader.Set(1)
	}
	var changed atomic.Pointer[watcher.Manager]
	reg, err := o.Clusters.start(ctx, watches, cfg, func(name string) {
		if mgr := changed.Load(); mgr != nil {
			mgr.ClusterChanged(name)
		}
	}, func(c *rest.Config) (*rest.Config, error) {
		if err := tuneRateLimit(c, o.QPS, o.Burst); err != nil {
			return nil, err
		}
		if fenced == nil {
			return c, nil
		}
		w := rest.CopyConfig(c)
		w.Wrap(fenced.wrap)
		return w, nil
	}, instance, log)
	if err != nil {
		return err
	}
	if reg != nil {
		wopts.Clusters = reg
	}
	mgr, err := watcher.New(wopts, watches)
	if err != nil {
		return err
	}
	changed.Store(mgr)
	stopMetrics, err := serve(ctx, "metrics", o.MetricsAddr, metricsHandler(m, o.Profiling), log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopHealth, err := serve(ctx, "health", o.HealthAddr, healthHandler(mgr.Ready), log)
	if err != nil {
		return err
	}
	defer stopHealth()
	log.Info("starting", zap.Int("watches", len(watches)), zap.String("server", cfg.Host), zap.String("instance", instance), zap.Bool("leaderElection", le.Enabled),
		zap.Bool("sharding", o.Sharding), zap.Float32("qps", cfg.QPS), zap.Int("burst", cfg.Burst))
	switch {
	case elected != nil:
		err = elected.run(ctx, mgr.Run)
	case sharded != nil:
		err = sharded.run(ctx, mgr)
	default:
		err = mgr.Run(ctx)
	}
	log.Info("stopped")
	return err
}

// loadWatches loads every config and parses every template, reporting all errors at once.
func loadWatches(path string) ([]watcher.Watch, error) {
	if path == "" {
		return nil, errors.New("--config is required: a watch config file or a directory of them")
	}
	cfgs, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	var watches []watcher.Watch
	var errs []error
	for _, c := range cfgs {
		r, err := newSource(c, capabilities{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		watches = append(watches, watcher.Watch{Watch: c, Renderer: r})
	}
	return watches, errors.Join(errs...)
}

// forCluster completes the chart watches for the cluster (capabilities from discovery, lookup,
// installs vs upgrades) and installs their charts' CRDs, before any owner is reconciled.
func forCluster(ctx context.Context, watches []watcher.Watch, dc discovery.DiscoveryInterface, dyn dynamic.Interface, mapper apimeta.RESTMapper, log *zap.Logger) ([]watcher.Watch, error) {
	var charts []chartWatch
	for _, w := range watches {
		if set, ok := w.Renderer.(*renderer.ChartSet); ok {
			charts = append(charts, chartWatch{watch: w.Watch, set: set})
		}
	}
	if len(charts) == 0 {
		return watches, nil
	}
	if err := installCRDs(ctx, charts, dyn, log); err != nil {
		return nil, err
	}
	caps, err := clusterCapabilities(dc)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(watches)
	for i, w := range out {
		r, err := withCluster(w.Renderer, w.Watch, caps, dyn, mapper)
		if err != nil {
			return nil, err
		}
		out[i].Renderer = r
	}
	return out, nil
}

// restConfig loads the client configuration as kubectl does: --kubeconfig, then $KUBECONFIG,
// then ~/.kube/config, then the in-cluster service account.
func restConfig(o RunOptions) (*rest.Config, error) {
	cfg := o.RESTConfig
	if cfg == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		var err error
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w (set --kubeconfig or $KUBECONFIG, or run in a pod)", err)
		}
	} else {
		cfg = rest.CopyConfig(cfg)
	}
	cfg.UserAgent = "bosun"
	cfg.DisableCompression = !o.Compression
	return cfg, nil
}
