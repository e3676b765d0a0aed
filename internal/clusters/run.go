package clusters

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

// Run starts the informers and returns when ctx is done and they have stopped, so no Changed
// call comes after it returns. Call it once.
func (r *Registry) Run(ctx context.Context) {
	r.secretFactory.StartWithContext(ctx)
	defer r.secretFactory.Shutdown()
	synced := []cache.DoneChecker{r.secretSynced.HasSyncedChecker()}
	if r.providers != nil && r.profilesServed(ctx) {
		f, reg, err := r.watchProfiles()
		if err != nil {
			// Only a stopped informer refuses a handler, and this one is new.
			r.setAPIErr(err)
		} else {
			f.Start(ctx.Done())
			defer f.Shutdown()
			synced = append(synced, reg.HasSyncedChecker())
			r.profilesWatched = true
		}
	}
	r.synced = synced
	close(r.started)
	<-ctx.Done()
}

// WaitForSync waits until every informer has delivered its initial list to the registry, and
// reports false if ctx ends first. It may be called before Run.
func (r *Registry) WaitForSync(ctx context.Context) bool {
	select {
	case <-r.started:
	case <-ctx.Done():
		return false
	}
	return cache.WaitFor(ctx, "", r.synced...)
}

// profilesServed asks discovery whether the hub serves ClusterProfiles. It is asked once: a
// CRD installed later needs a restart of bosun. An answer (served, or the group version is not
// found) ends it; any other error, such as an API server not reachable yet, is kept for
// Problems and retried with backoff until ctx ends, because guessing "not served" would drop
// every profile cluster for the life of the process.
func (r *Registry) profilesServed(ctx context.Context) bool {
	d := discovery.ToDiscoveryInterfaceWithContext(r.opts.Discovery)
	backoff := r.retry
	for {
		list, err := d.ServerResourcesForGroupVersionWithContext(ctx, profileGroupVersion())
		switch {
		case err == nil:
			r.setAPIErr(nil)
			return slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool {
				return a.Name == v1alpha1.ClusterProfileSchemeGroupVersionResource.Resource
			})
		case apierrors.IsNotFound(err):
			r.setAPIErr(nil)
			return false
		}
		r.setAPIErr(fmt.Errorf("%s: discovery: %w", profileGroupVersion(), err))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff.Step()):
		}
	}
}

func profileGroupVersion() string { return v1alpha1.GroupVersion.String() }
