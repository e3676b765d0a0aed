package watcher

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Children of the built-in kinds that have a health (Deployments, Services, Jobs...) are
// listed and watched as protobuf into client-go's own types, not as JSON into unstructured
// maps: their status changes are most of the events bosun reads, and decoding JSON was the
// largest part of its CPU and of the garbage behind its memory peaks. Health is computed once
// per version, from the typed object converted without its managedFields and pod template; the
// cache keeps the same metadata either way. Kinds client-go does not know (custom resources,
// versions newer than client-go) are watched as JSON through the dynamic client.

// protobufInformer returns an informer of gvr's objects in client-go's types, or false when
// client-go has no type for it or no protobuf client was configured (Options.Protobuf).
// Called with c.mu held.
func (c *children) protobufInformer(gk schema.GroupKind, gvr schema.GroupVersionResource, ns string, indexers cache.Indexers, tweak func(*metav1.ListOptions), wrap func(*cache.ListWatch) *cache.ListWatch) (cache.SharedIndexInformer, bool, error) {
	gvk := gk.WithVersion(gvr.Version)
	if c.protobuf == nil || !scheme.Scheme.Recognizes(gvk) {
		return nil, false, nil
	}
	example, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, false, nil
	}
	rc, err := c.protobufClient(gvr.GroupVersion())
	if err != nil {
		return nil, false, fmt.Errorf("%s: protobuf client: %w", gvr, err)
	}
	request := func(o metav1.ListOptions) *rest.Request {
		tweak(&o)
		return rc.Get().NamespaceIfScoped(ns, ns != "").Resource(gvr.Resource).VersionedParams(&o, scheme.ParameterCodec)
	}
	lw := wrap(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return request(o).Do(ctx).Get()
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.Watch = true
			return request(o).Watch(ctx)
		},
	})
	inf := cache.NewSharedIndexInformerWithOptions(lw, example, cache.SharedIndexInformerOptions{
		Indexers: indexers, ObjectDescription: gvr.String(),
	})
	_ = inf.SetTransform(c.keepTypedHealth(gvk))
	return inf, true, nil
}

// protobufClient returns the REST client of one API group version, speaking protobuf; the
// clients share one HTTP client (its connections) and the configuration's rate limits.
func (c *children) protobufClient(gv schema.GroupVersion) (rest.Interface, error) {
	if rc, ok := c.protobufClients[gv]; ok {
		return rc, nil
	}
	if c.protobufHTTP == nil {
		hc, err := rest.HTTPClientFor(c.protobuf)
		if err != nil {
			return nil, err
		}
		c.protobufHTTP = hc
	}
	cfg := rest.CopyConfig(c.protobuf)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	if gv.Group == "" {
		cfg.APIPath = "/api"
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientForConfigAndClient(cfg, c.protobufHTTP)
	if err != nil {
		return nil, err
	}
	c.protobufClients[gv] = rc
	return rc, nil
}

// keepTypedHealth is keepHealth for a child in client-go's types: kstatus reads unstructured
// objects only, so the object is converted — but only what a health rule reads: its spec
// without the pod template and its status, under the name, generation and deletion time of its
// metadata. Labels, annotations, owner references and managedFields go to the cache straight
// from the typed object; converting them by reflection was most of the conversion's cost, and
// it runs for every status update a workload's controller writes. The informer hands the
// transform its own copy, so the object may be cut.
func (c *children) keepTypedHealth(gvk schema.GroupVersionKind) cache.TransformFunc {
	return func(obj any) (any, error) {
		o, ok := obj.(runtime.Object)
		m, isMeta := obj.(metav1.Object)
		if _, partial := obj.(*metav1.PartialObjectMetadata); !ok || !isMeta || partial {
			return c.keepShape(obj)
		}
		kept := cachedMeta(m)
		managed := m.GetManagedFields()
		m.SetManagedFields(nil)
		m.SetLabels(nil)
		m.SetAnnotations(nil)
		m.SetOwnerReferences(nil)
		m.SetFinalizers(nil)
		dropPodTemplate(o)
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", gvk.Kind, m.GetNamespace(), m.GetName(), err)
		}
		u := &unstructured.Unstructured{Object: content}
		u.SetGroupVersionKind(gvk)
		return c.withHealth(u, kept, managed)
	}
}

// dropPodTemplate empties the pod template of a workload, the bulk of it; kstatus reads only
// replicas, update strategy, completions, parallelism and progress deadline of a spec.
func dropPodTemplate(o runtime.Object) {
	switch o := o.(type) {
	case *appsv1.Deployment:
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *appsv1.StatefulSet:
		o.Spec.Template = corev1.PodTemplateSpec{}
		o.Spec.VolumeClaimTemplates = nil
	case *appsv1.DaemonSet:
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *appsv1.ReplicaSet:
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *batchv1.Job:
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *batchv1.CronJob:
		o.Spec.JobTemplate = batchv1.JobTemplateSpec{}
	}
}
