package clusters

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Options configures a Registry.
type Options struct {
	// Client is the hub clientset; cluster Secrets are read with it.
	Client kubernetes.Interface
	// Dynamic is the hub dynamic client; ClusterProfiles are read with it. Required when
	// ProviderFile is set.
	Dynamic dynamic.Interface
	// Discovery tells whether the ClusterProfile API is served; Client.Discovery() when nil.
	Discovery discovery.DiscoveryInterface
	// SecretNamespace is where cluster Secrets live (bosun's namespace). Required: Secrets
	// are never read from other namespaces.
	SecretNamespace string
	// ProfileNamespace is where ClusterProfiles are read; "" reads all namespaces.
	ProfileNamespace string
	// ProviderFile is the KEP-5339 access provider file (cluster-inventory-api's JSON
	// format). "" means ClusterProfiles are not used at all. It is read once, by New.
	ProviderFile string
	// AllowExec lets kubeconfigs from Secrets use exec credential plugins and auth-providers,
	// which run programs in bosun's pod. Refused by default, as Flux refuses them without
	// --insecure-kubeconfig-exec. The provider file's plugins are bosun's own configuration and
	// are always allowed.
	AllowExec bool
	// Changed, if set, is called with a cluster's name whenever it appears, changes Source,
	// Revision, Labels or Err, or disappears. It is called from an informer goroutine, one call
	// at a time, after the change is visible to Get; it should be quick (enqueue the name).
	Changed func(name string)
}

// Registry knows the workload clusters that the hub describes. Its methods are safe for
// concurrent use.
type Registry struct {
	opts      Options
	providers *providers // nil when ClusterProfiles are not used
	table     *table
	notifyMu  sync.Mutex // one Changed call at a time

	secretFactory informers.SharedInformerFactory
	secretSynced  cache.ResourceEventHandlerRegistration

	// started is closed by Run once it has decided which informers run; synced and
	// profilesWatched are written before that and only read after it.
	started         chan struct{}
	synced          []cache.DoneChecker
	profilesWatched bool

	apiMu  sync.Mutex
	apiErr error // the last discovery failure, until discovery answers

	retry wait.Backoff // between failed discoveries; tests shorten it
}

// New checks the options, reads the provider file and sets up the informers; it does not
// contact the API server (Run does).
func New(o Options) (*Registry, error) {
	var errs []error
	if o.Client == nil {
		errs = append(errs, errors.New("Options.Client is required"))
	}
	if o.SecretNamespace == "" {
		errs = append(errs, errors.New("Options.SecretNamespace is required: cluster Secrets are read from one namespace only"))
	}
	if o.ProviderFile != "" && o.Dynamic == nil {
		errs = append(errs, errors.New("Options.Dynamic is required with Options.ProviderFile: ClusterProfiles are read with it"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("clusters: %w", errors.Join(errs...))
	}
	if o.Discovery == nil {
		o.Discovery = o.Client.Discovery()
	}
	r := &Registry{
		opts:    o,
		table:   newTable(),
		started: make(chan struct{}),
		retry:   wait.Backoff{Duration: time.Second, Factor: 2, Steps: 1 << 30, Cap: 30 * time.Second},
	}
	if o.ProviderFile != "" {
		p, err := loadProviders(o.ProviderFile)
		if err != nil {
			return nil, fmt.Errorf("clusters: %w", err)
		}
		r.providers = p
	}
	if err := r.watchSecrets(); err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	return r, nil
}

// Get returns the cluster of a name, usable or not (see Cluster.Err), and whether there is
// one. The Config is a fresh copy. The reserved name "local" is never returned.
func (r *Registry) Get(name string) (Cluster, bool) { return r.table.get(name) }

// Select returns the sorted names of the usable clusters whose labels match sel; a nil
// selector matches none.
func (r *Registry) Select(sel labels.Selector) []string { return r.table.selectNames(sel) }

// Names returns the sorted names of all known clusters, usable or not.
func (r *Registry) Names() []string { return r.table.names(func(Cluster) bool { return true }) }

// Problems returns, keyed by Source, every source that gives no usable cluster and why: an
// unusable kubeconfig or profile, the reserved name, or a name already given by another
// source (a ClusterProfile whose name a Secret uses). While discovery of the ClusterProfile
// API fails, its error is there too, keyed by the API's group version.
func (r *Registry) Problems() map[string]error {
	out := r.table.problems()
	r.apiMu.Lock()
	defer r.apiMu.Unlock()
	if r.apiErr != nil {
		out[profileGroupVersion()] = r.apiErr
	}
	return out
}

// ProfilesWatched reports whether ClusterProfiles are read: a provider file is set and the
// API is served. It is false until Run has found out; WaitForSync waits for that.
func (r *Registry) ProfilesWatched() bool {
	select {
	case <-r.started:
		return r.profilesWatched
	default:
		return false
	}
}

// record stores what a source says now and tells Changed if Get's answer changed.
func (r *Registry) record(e entry) {
	if r.table.set(e) {
		r.notify(e.Name)
	}
}

// forget drops a source and tells Changed if Get's answer changed.
func (r *Registry) forget(name, source string) {
	if r.table.remove(name, source) {
		r.notify(name)
	}
}

func (r *Registry) notify(name string) {
	if r.opts.Changed == nil {
		return
	}
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	r.opts.Changed(name)
}

func (r *Registry) setAPIErr(err error) {
	r.apiMu.Lock()
	defer r.apiMu.Unlock()
	r.apiErr = err
}
