package main

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

// tracker watches the Sites and bosun's children and answers "how far is batch X" from its
// caches. Watches cost the API server far less than listing 10,000 Sites every second. Objects
// are cut down to the few fields the checks read, so the harness stays small next to bosun.
// With workload clusters (-clusters) it watches the children in each of them too, and looks a
// Site's children up in the cluster its bosun.dev/cluster annotation names.
type tracker struct {
	sites cache.SharedIndexInformer
	// kids are the children's caches by cluster: "" is the hub's, the others the workload
	// clusters'.
	kids map[string]*childCaches
	stop context.CancelFunc

	// changes counts add, update and delete events per kind, to tell whether a phase in which
	// nobody else writes changed anything.
	changes [4]atomic.Int64

	hookMu sync.RWMutex
	hook   func(childEvent)

	// deployment: every owner has a Deployment among its children (the workload's shape);
	// without one, an owner is done without it.
	deployment bool
	// times are when the tracker received each owner's last child write and its Ready
	// (see ownerTimes), by namespace/name.
	timesMu sync.Mutex
	times   map[string]*ownerTimes
}

// childEvent is a ConfigMap or Service as the tracker's watch delivered it, for the latency
// phases' hook.
type childEvent struct {
	kind             int // kindConfigMap or kindService
	namespace, owner string
	content          string    // ConfigMap: data index.html
	port             int64     // Service: its http port
	at               time.Time // stamped on receipt
}

// Kinds in tracker.changes.
const (
	kindSite = iota
	kindConfigMap
	kindDeployment
	kindService
)

var kindNames = [4]string{"Site", "ConfigMap", "Deployment", "Service"}

// childCaches are the caches of bosun's children in one cluster.
type childCaches struct {
	configMaps, deployments, services cache.SharedIndexInformer
}

type siteInfo struct {
	metav1.ObjectMeta
	cluster  string // the bosun.dev/cluster annotation: "" is the hub
	observed int64
	ready    bool
	message  string
	port     int64 // spec.port, 0 when unset
	// failure is the reason and message of a Ready=False condition that is not
	// Progressing: bosun gave up on this generation for now and reported why.
	failure string
}

type configMapInfo struct {
	metav1.ObjectMeta
	content string
}

type deploymentInfo struct {
	metav1.ObjectMeta
	current bool
}

type serviceInfo struct {
	metav1.ObjectMeta
	port int64
}

// defaultPort is the Service port of a Site without spec.port (templates/site/service.yaml).
const defaultPort = 80

// wantPort is the port the Site's Service should show.
func (s *siteInfo) wantPort() int64 {
	if s.port == 0 {
		return defaultPort
	}
	return s.port
}

// startTracker watches the Sites in the hub e and the children there and, by name, in the
// workload clusters of remote (none without -clusters).
func startTracker(ctx context.Context, e *env, sh shape, remote map[string]kubernetes.Interface) (*tracker, error) {
	ctx, cancel := context.WithCancel(ctx)
	t := &tracker{stop: cancel, deployment: sh.deployment, times: map[string]*ownerTimes{}, kids: map[string]*childCaches{}}
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(e.dyn, 0)
	t.sites = dynFactory.ForResource(siteGVR).Informer()
	_ = t.sites.SetTransform(compact)
	_, _ = t.sites.AddEventHandler(t.handler(kindSite))
	synced := []cache.InformerSynced{t.sites.HasSynced}
	dynFactory.Start(ctx.Done())
	clients := map[string]kubernetes.Interface{"": e.cs}
	maps.Copy(clients, remote)
	for name, cs := range clients {
		factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = applier.LabelManagedBy + "=" + applier.ManagedByValue
		}))
		k := &childCaches{
			configMaps:  factory.Core().V1().ConfigMaps().Informer(),
			deployments: factory.Apps().V1().Deployments().Informer(),
			services:    factory.Core().V1().Services().Informer(),
		}
		for kind, inf := range map[int]cache.SharedIndexInformer{kindConfigMap: k.configMaps, kindDeployment: k.deployments, kindService: k.services} {
			_ = inf.SetTransform(compact)
			_, _ = inf.AddEventHandler(t.handler(kind))
			synced = append(synced, inf.HasSynced)
		}
		factory.Start(ctx.Done())
		t.kids[name] = k
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		cancel()
		return nil, fmt.Errorf("tracker: caches did not sync: %w", ctx.Err())
	}
	return t, nil
}

// kidsOf are the caches of the cluster the Site's children go to; nil for a cluster the
// tracker does not watch (then it has none).
func (t *tracker) kidsOf(s *siteInfo) *childCaches { return t.kids[s.cluster] }

func (t *tracker) close() { t.stop() }

func (t *tracker) handler(kind int) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			t.changes[kind].Add(1)
			t.stamp(kind, nil, obj)
			t.observe(kind, obj)
		},
		UpdateFunc: func(old, obj any) {
			if o, n := metaOf(old), metaOf(obj); o != nil && n != nil && o.ResourceVersion == n.ResourceVersion {
				return
			}
			t.changes[kind].Add(1)
			t.stamp(kind, old, obj)
			t.observe(kind, obj)
		},
		DeleteFunc: func(obj any) {
			t.changes[kind].Add(1)
			if kind == kindSite {
				t.forget(obj)
			}
		},
	}
}

// observe passes ConfigMap contents and Service ports to the latency hook, stamped on receipt.
func (t *tracker) observe(kind int, obj any) {
	if kind != kindConfigMap && kind != kindService {
		return
	}
	ev := childEvent{kind: kind, at: time.Now()}
	switch o := obj.(type) {
	case *configMapInfo:
		ev.namespace, ev.owner, ev.content = o.Namespace, strings.TrimSuffix(o.Name, "-content"), o.content
	case *serviceInfo:
		ev.namespace, ev.owner, ev.port = o.Namespace, o.Name, o.port
	default:
		return
	}
	t.hookMu.RLock()
	hook := t.hook
	t.hookMu.RUnlock()
	if hook != nil {
		hook(ev)
	}
}

func (t *tracker) setHook(h func(childEvent)) {
	t.hookMu.Lock()
	defer t.hookMu.Unlock()
	t.hook = h
}

func (t *tracker) changeCounts() [4]int64 {
	var out [4]int64
	for i := range t.changes {
		out[i] = t.changes[i].Load()
	}
	return out
}

func metaOf(obj any) *metav1.ObjectMeta {
	switch o := obj.(type) {
	case *siteInfo:
		return &o.ObjectMeta
	case *configMapInfo:
		return &o.ObjectMeta
	case *deploymentInfo:
		return &o.ObjectMeta
	case *serviceInfo:
		return &o.ObjectMeta
	}
	return nil
}

// compact keeps what the checks read. It may see an object it already compacted.
func compact(obj any) (any, error) {
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		s := &siteInfo{ObjectMeta: slim(o.GetNamespace(), o.GetName(), string(o.GetUID()), o.GetResourceVersion(), o.GetGeneration()),
			cluster: o.GetAnnotations()[config.AnnotationCluster]}
		if spec, ok := o.Object["spec"].(map[string]any); ok {
			s.message, _ = spec["message"].(string)
			s.port = toInt64(spec["port"])
		}
		if status, ok := o.Object["status"].(map[string]any); ok {
			s.observed = toInt64(status["observedGeneration"])
			conds, _ := status["conditions"].([]any)
			for _, c := range conds {
				m, ok := c.(map[string]any)
				if !ok || m["type"] != "Ready" {
					continue
				}
				switch {
				case m["status"] == "True":
					s.ready = true
				case m["reason"] != "Progressing":
					s.failure = fmt.Sprintf("%v: %v", m["reason"], m["message"])
				}
			}
		}
		return s, nil
	case *corev1.ConfigMap:
		return &configMapInfo{ObjectMeta: slim(o.Namespace, o.Name, string(o.UID), o.ResourceVersion, 0), content: o.Data["index.html"]}, nil
	case *appsv1.Deployment:
		return &deploymentInfo{ObjectMeta: slim(o.Namespace, o.Name, string(o.UID), o.ResourceVersion, o.Generation), current: deploymentCurrent(o)}, nil
	case *corev1.Service:
		return &serviceInfo{ObjectMeta: slim(o.Namespace, o.Name, string(o.UID), o.ResourceVersion, 0), port: servicePort(o)}, nil
	}
	return obj, nil
}

// servicePort is the Service's port named http (the one spec.port sets), else its first.
func servicePort(s *corev1.Service) int64 {
	for _, p := range s.Spec.Ports {
		if p.Name == "http" {
			return int64(p.Port)
		}
	}
	if len(s.Spec.Ports) > 0 {
		return int64(s.Spec.Ports[0].Port)
	}
	return 0
}

func slim(namespace, name, uid, rv string, generation int64) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(uid), ResourceVersion: rv, Generation: generation}
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// deploymentCurrent follows kstatus, which bosun's Ready uses: the controller saw the
// current spec, and every replica is updated, ready and available, with no old ones left.
func deploymentCurrent(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.Replicas == want && s.UpdatedReplicas == want &&
		s.ReadyReplicas == want && s.AvailableReplicas == want
}

// batchState is how far the Sites of one batch (and their children) are.
type batchState struct {
	Sites, Ready, Updated              int // Ready: Ready=True for the current generation
	ConfigMaps, Deployments, Services  int // children of the batch's Sites that exist
	ContentOK, DeploymentsCurrent      int // ConfigMap shows the Site's message; Deployment Current
	PortOK                             int // Service shows the Site's spec.port (default 80)
	LeftConfigMaps, LeftDeps, LeftSvcs int // any children in the batch's namespaces
	// Done: Ready for the current generation, its children there (the Deployment only if
	// the workload has one), the ConfigMap showing the message and the Service the port.
	// Failed: bosun reports a failure for the current generation.
	Done, Failed int
	// FailedExamples names a few failed Sites with the reason bosun reported.
	FailedExamples []string
}

func (s batchState) plus(o batchState) batchState {
	return batchState{
		Sites: s.Sites + o.Sites, Ready: s.Ready + o.Ready, Updated: s.Updated + o.Updated,
		ConfigMaps: s.ConfigMaps + o.ConfigMaps, Deployments: s.Deployments + o.Deployments, Services: s.Services + o.Services,
		ContentOK: s.ContentOK + o.ContentOK, DeploymentsCurrent: s.DeploymentsCurrent + o.DeploymentsCurrent, PortOK: s.PortOK + o.PortOK,
		LeftConfigMaps: s.LeftConfigMaps + o.LeftConfigMaps, LeftDeps: s.LeftDeps + o.LeftDeps, LeftSvcs: s.LeftSvcs + o.LeftSvcs,
		Done: s.Done + o.Done, Failed: s.Failed + o.Failed,
		FailedExamples: append(append([]string(nil), s.FailedExamples...), o.FailedExamples...),
	}
}

func (s batchState) children() int { return s.ConfigMaps + s.Deployments + s.Services }

func (s batchState) left() int { return s.LeftConfigMaps + s.LeftDeps + s.LeftSvcs }

// converged: n Sites whose message starts with msgPrefix, all Ready for their generation,
// with their children, the ConfigMap showing the message and the Service the port.
func (s batchState) converged(n int) bool {
	return s.Sites == n && s.Updated == n && s.Done == n
}

// settled: like converged, but Sites bosun reports as failed count as settled.
func (s batchState) settled(n int) bool {
	return s.Sites == n && s.Updated == n && s.Done+s.Failed == n
}

func (s batchState) String() string {
	text := fmt.Sprintf("sites %d, ready %d, children %d (configmaps %d, deployments %d current %d, services %d), content ok %d, port ok %d",
		s.Sites, s.Ready, s.children(), s.ConfigMaps, s.Deployments, s.DeploymentsCurrent, s.Services, s.ContentOK, s.PortOK)
	if s.Failed > 0 {
		text += fmt.Sprintf(", failed %d (%s)", s.Failed, strings.Join(s.FailedExamples, "; "))
	}
	return text
}

// state reports on the batch; Updated counts Sites whose spec.message starts with msgPrefix.
func (t *tracker) state(batch, msgPrefix string) batchState {
	return t.stateIn("bench-"+batch+"-", msgPrefix)
}

// all reports on every Site there is, whatever its batch.
func (t *tracker) all(msgPrefix string) batchState { return t.stateIn("bench-", msgPrefix) }

// stateIn reports on the Sites in the namespaces that start with prefix, each with its
// children in its cluster; the children left are those in any cluster.
func (t *tracker) stateIn(prefix, msgPrefix string) batchState {
	var st batchState
	for _, obj := range t.sites.GetIndexer().List() {
		s, ok := obj.(*siteInfo)
		if !ok || !strings.HasPrefix(s.Namespace, prefix) {
			continue
		}
		st.Sites++
		current := s.observed == s.Generation
		ready := s.ready && current
		if ready {
			st.Ready++
		}
		if strings.HasPrefix(s.message, msgPrefix) {
			st.Updated++
		}
		key := s.Namespace + "/" + s.Name
		content, deployment, service := false, false, false
		if k := t.kidsOf(s); k != nil {
			if obj, ok, _ := k.configMaps.GetIndexer().GetByKey(key + "-content"); ok {
				st.ConfigMaps++
				if cm, ok := obj.(*configMapInfo); ok && strings.Contains(cm.content, "<h1>"+s.message+"</h1>") {
					st.ContentOK++
					content = true
				}
			}
			if obj, ok, _ := k.deployments.GetIndexer().GetByKey(key); ok {
				st.Deployments++
				deployment = true
				if d, ok := obj.(*deploymentInfo); ok && d.current {
					st.DeploymentsCurrent++
				}
			}
			if obj, ok, _ := k.services.GetIndexer().GetByKey(key); ok {
				st.Services++
				if svc, ok := obj.(*serviceInfo); ok && svc.port == s.wantPort() {
					st.PortOK++
					service = true
				}
			}
		}
		switch {
		case ready && content && (deployment || !t.deployment) && service:
			st.Done++
		case current && s.failure != "":
			st.Failed++
			if len(st.FailedExamples) < 3 {
				st.FailedExamples = append(st.FailedExamples, key+": "+s.failure)
			}
		}
	}
	for _, k := range t.kids {
		st.LeftConfigMaps += countPrefix(k.configMaps.GetIndexer().ListKeys(), prefix)
		st.LeftDeps += countPrefix(k.deployments.GetIndexer().ListKeys(), prefix)
		st.LeftSvcs += countPrefix(k.services.GetIndexer().ListKeys(), prefix)
	}
	return st
}

func countPrefix(keys []string, prefix string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// sitePort is the port the Site's Service should show, as the tracker last saw the Site.
func (t *tracker) sitePort(key string) int64 {
	if obj, ok, _ := t.sites.GetIndexer().GetByKey(key); ok {
		if s, ok := obj.(*siteInfo); ok {
			return s.wantPort()
		}
	}
	return defaultPort
}

// siteKeys are the namespace/name keys of every Site, sorted.
func (t *tracker) siteKeys() []string {
	keys := t.sites.GetIndexer().ListKeys()
	sort.Strings(keys)
	return keys
}

// siteUIDs are the UIDs of every Site, by namespace/name key.
func (t *tracker) siteUIDs() map[string]types.UID {
	out := map[string]types.UID{}
	for _, obj := range t.sites.GetIndexer().List() {
		if s, ok := obj.(*siteInfo); ok {
			out[s.Namespace+"/"+s.Name] = s.UID
		}
	}
	return out
}

// portsShown counts the Sites, of those in want, whose Service shows the port wanted, and of
// those the ones done: the Site has that spec.port and is Ready for its generation.
func (t *tracker) portsShown(want map[string]int64) (shown, done int) {
	sites := t.sites.GetIndexer()
	for key, port := range want {
		obj, ok, _ := sites.GetByKey(key)
		s, isSite := obj.(*siteInfo)
		isSite = ok && isSite
		kids := t.kids[""]
		if isSite {
			kids = t.kidsOf(s)
		}
		if kids == nil {
			continue
		}
		obj, ok, _ = kids.services.GetIndexer().GetByKey(key)
		if svc, isSvc := obj.(*serviceInfo); !ok || !isSvc || svc.port != port {
			continue
		}
		shown++
		if isSite && s.wantPort() == port && s.ready && s.observed == s.Generation {
			done++
		}
	}
	return shown, done
}
