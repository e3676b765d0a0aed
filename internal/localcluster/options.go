package localcluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Versions of the control plane; hack/versions.sh pins the same ones and a test keeps the
// two in sync.
const (
	KubeVersion = "v1.37.2"
	EtcdVersion = "v3.6.16"
	KwokVersion = "v0.8.0"
)

// Binary names, as hack/build-tools.sh installs them.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kwok                  = "kwok"
)

// kwokStagesDir holds kwok's stage configs inside the bin directory; hack/build-tools.sh
// copies them from the kwok module.
const kwokStagesDir = "kwok-stages"

// kwokStages are the stage configs kwok is started with: nodes become Ready and keep a
// heartbeat, pods become Ready, Jobs' pods complete, deleted pods go away.
var kwokStages = []string{
	"node-initialize.yaml",
	"node-heartbeat.yaml",
	"pod-ready.yaml",
	"pod-complete.yaml",
	"pod-delete.yaml",
}

// Options says what to run and where.
type Options struct {
	// Dir holds the state: certificates, etcd data, logs and the kubeconfig. It is created if
	// missing; certificates and etcd data found there are reused.
	Dir string
	// BinDir holds the binaries. Empty means: $BOSUN_TOOLS_DIR, else the cache directory
	// hack/build-tools.sh builds into if it exists, else $KUBEBUILDER_ASSETS if set, else
	// that cache directory (and the missing binaries are reported there).
	BinDir string
	// ControllerManager also runs kube-controller-manager with the controllers a workload
	// needs (namespace, garbage collector, deployment, replicaset, service accounts, ...).
	ControllerManager bool
	// MinimalControllers runs kube-controller-manager with only the namespace and
	// garbage-collector controllers: enough for a cluster that holds objects but runs no pods
	// (a workload cluster without nodes, see WorkloadOptions), and less for a busy machine to
	// run. Nothing creates ServiceAccounts then, so pods need their namespace's "default"
	// ServiceAccount created by hand. It requires ControllerManager and rules out Kwok, whose
	// Deployments would never get pods.
	MinimalControllers bool
	// Scheduler also runs kube-scheduler.
	Scheduler bool
	// Kwok also runs kwok and creates one fake Node it manages, so scheduled pods become
	// Running and Ready. It requires ControllerManager and Scheduler.
	Kwok bool
	// NoShardedListAndWatch starts kube-apiserver without the alpha feature gate
	// ShardedListAndWatch (KEP-5866), which is on by default here: clients that shard must then
	// filter on their side, as on most clusters today.
	NoShardedListAndWatch bool
	// Fsync makes etcd fsync its writes. The default (false) runs etcd with
	// --unsafe-no-fsync, which is much faster and fine for disposable data.
	Fsync bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (o Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("Dir is required"))
	}
	if o.Kwok && !(o.ControllerManager && o.Scheduler) {
		errs = append(errs, errors.New("Kwok requires ControllerManager and Scheduler"))
	}
	if o.MinimalControllers && !o.ControllerManager {
		errs = append(errs, errors.New("MinimalControllers requires ControllerManager"))
	}
	if o.MinimalControllers && o.Kwok {
		errs = append(errs, errors.New("Kwok requires the full controller set, not MinimalControllers"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// binaries lists the binaries the options need, in start order.
func (o Options) binaries() []string {
	bins := []string{Etcd, KubeAPIServer}
	if o.ControllerManager {
		bins = append(bins, KubeControllerManager)
	}
	if o.Scheduler {
		bins = append(bins, KubeScheduler)
	}
	if o.Kwok {
		bins = append(bins, Kwok)
	}
	return bins
}

// DefaultBinDir is the directory hack/build-tools.sh builds into (see bosun_tools_dir in
// hack/versions.sh), ignoring BOSUN_TOOLS_DIR.
func DefaultBinDir() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "bosun", "tools",
		"k8s-"+KubeVersion+"-etcd-"+EtcdVersion+"-kwok-"+KwokVersion)
}

// ResolveBinDir says where the binaries are looked up, following the order documented on
// Options.BinDir.
func (o Options) ResolveBinDir() string {
	if o.BinDir != "" {
		return o.BinDir
	}
	if dir := os.Getenv("BOSUN_TOOLS_DIR"); dir != "" {
		return dir
	}
	def := DefaultBinDir()
	if _, err := os.Stat(def); err == nil {
		return def
	}
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	return def
}

// MissingBinariesError reports binaries (or kwok's stage configs) that are not in the bin
// directory.
type MissingBinariesError struct {
	Dir     string
	Missing []string
}

func (e *MissingBinariesError) Error() string {
	return fmt.Sprintf("missing %q in %s: run hack/build-tools.sh to build them (BOSUN_TOOLS_DIR overrides the directory)",
		e.Missing, e.Dir)
}

// checkBinaries returns a *MissingBinariesError naming every missing file at once, so one
// build run fixes them all.
func checkBinaries(binDir string, bins []string, kwok bool) error {
	var missing []string
	for _, b := range bins {
		if fi, err := os.Stat(filepath.Join(binDir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if kwok {
		for _, s := range kwokStages {
			if _, err := os.Stat(filepath.Join(binDir, kwokStagesDir, s)); err != nil {
				missing = append(missing, filepath.Join(kwokStagesDir, s))
			}
		}
	}
	if len(missing) > 0 {
		return &MissingBinariesError{Dir: binDir, Missing: missing}
	}
	return nil
}
