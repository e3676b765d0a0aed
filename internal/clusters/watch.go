package clusters

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

// watchSecrets sets up the informer of cluster Secrets: one namespace, selected by label on
// the server, so bosun neither lists nor caches the namespace's other Secrets.
func (r *Registry) watchSecrets() error {
	f := informers.NewSharedInformerFactoryWithOptions(r.opts.Client, 0,
		informers.WithNamespace(r.opts.SecretNamespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = LabelSecretType + "=" + SecretTypeCluster
		}))
	inf := f.Core().V1().Secrets().Informer()
	if err := inf.SetTransform(trimSecret); err != nil {
		return fmt.Errorf("Secret informer: %w", err)
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    r.secretChanged,
		UpdateFunc: func(_, obj any) { r.secretChanged(obj) },
		DeleteFunc: func(obj any) { r.deleted("Secret", obj) },
	})
	if err != nil {
		return fmt.Errorf("Secret informer: %w", err)
	}
	r.secretFactory, r.secretSynced = f, reg
	return nil
}

// watchProfiles sets up the informer of ClusterProfiles; Run calls it once discovery has shown
// that the API is served.
func (r *Registry) watchProfiles() (dynamicinformer.DynamicSharedInformerFactory, cache.ResourceEventHandlerRegistration, error) {
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(r.opts.Dynamic, 0, r.opts.ProfileNamespace, nil)
	inf := f.ForResource(v1alpha1.ClusterProfileSchemeGroupVersionResource).Informer()
	if err := inf.SetTransform(stripManagedFields); err != nil {
		return nil, nil, fmt.Errorf("ClusterProfile informer: %w", err)
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    r.profileChanged,
		UpdateFunc: func(_, obj any) { r.profileChanged(obj) },
		DeleteFunc: func(obj any) { r.deleted("ClusterProfile", obj) },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ClusterProfile informer: %w", err)
	}
	return f, reg, nil
}

func (r *Registry) secretChanged(obj any) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return
	}
	source := "Secret/" + s.Namespace + "/" + s.Name
	// The API server turns "label removed" into a delete for a label-selected watch; this
	// covers any client that does not, and a namespace mix-up, so that only a labelled Secret
	// of SecretNamespace can ever define a cluster.
	if s.Namespace != r.opts.SecretNamespace || s.Labels[LabelSecretType] != SecretTypeCluster {
		r.forget(s.Name, source)
		return
	}
	r.record(entry{Cluster: fromSecret(s, r.opts.AllowExec), created: s.CreationTimestamp.Time})
}

func (r *Registry) profileChanged(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	r.record(entry{
		Cluster: fromProfile(u, r.providers),
		profile: true,
		created: u.GetCreationTimestamp().Time,
	})
}

// deleted forgets a Secret or ClusterProfile, unwrapping the tombstone the informer hands
// over when it missed the delete itself.
func (r *Registry) deleted(kind string, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	r.forget(m.GetName(), kind+"/"+m.GetNamespace()+"/"+m.GetName())
}

// trimSecret keeps of a cluster Secret only what fromSecret and the informer read, so the
// cache holds no other data key and no managed fields.
func trimSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	t := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:              s.Name,
			Namespace:         s.Namespace,
			UID:               s.UID,
			ResourceVersion:   s.ResourceVersion,
			Labels:            s.Labels,
			CreationTimestamp: s.CreationTimestamp,
		},
		Type: s.Type,
	}
	for _, k := range []string{KeyValue, KeyValueYAML} {
		if v, ok := s.Data[k]; ok {
			if t.Data == nil {
				t.Data = map[string][]byte{}
			}
			t.Data[k] = v
		}
	}
	return t, nil
}

// stripManagedFields drops what no reader here needs from a cached ClusterProfile.
func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
