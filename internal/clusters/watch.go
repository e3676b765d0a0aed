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
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

// watchSecrets sets up the informer of cluster Secrets: the Secrets of one namespace (bosun's),
// as Flux's kubeconfig Secrets carry no label of bosun's; trimSecret keeps of each only the
// kubeconfig keys, so the namespace's other Secrets cost their metadata.
func (r *Registry) watchSecrets() error {
	f := informers.NewSharedInformerFactoryWithOptions(r.opts.Client, 0,
		informers.WithNamespace(r.opts.SecretNamespace))
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
	// Only a Secret of SecretNamespace defines a cluster: one labelled as a cluster Secret
	// (whose problems are reported), or one that holds a kubeconfig under a kubeconfig key
	// (Flux's and Cluster API's shape); the namespace's other Secrets are not clusters.
	if s.Namespace != r.opts.SecretNamespace || (s.Labels[LabelSecretType] != SecretTypeCluster && !holdsKubeconfig(s)) {
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

// holdsKubeconfig reports whether an unlabelled Secret holds a kubeconfig with a cluster under
// one of the kubeconfig keys.
func holdsKubeconfig(s *corev1.Secret) bool {
	for _, key := range []string{KeyValue, KeyValueYAML} {
		if b, ok := s.Data[key]; ok {
			cfg, err := clientcmd.Load(b)
			return err == nil && len(cfg.Clusters) > 0
		}
	}
	return false
}
