package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

const getWatchFile = "testdata/get/watch.yaml"

// testNow is the time of testdata/get/cluster.yaml.
var testNow = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

var (
	testSiteGVR = schema.GroupVersionResource{Group: "example.bosun.dev", Version: "v1", Resource: "sites"}
	testGVRs    = map[schema.GroupVersionResource]string{
		testSiteGVR: "SiteList",
		{Group: "apps", Version: "v1", Resource: "deployments"}: "DeploymentList",
		{Version: "v1", Resource: "services"}:                   "ServiceList",
		{Version: "v1", Resource: "configmaps"}:                 "ConfigMapList",
	}
)

// testCluster serves the objects of testdata/get/cluster.yaml through client-go's fakes.
type testCluster struct {
	clients *readClients
	dynamic *dynamicfake.FakeDynamicClient
}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	w := loadTestWatch(t)
	cur, err := currentVersion(w)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/get/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(strings.ReplaceAll(string(data), "${CURRENT}", cur.hash))))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if blank(doc) {
			continue
		}
		o, err := renderer.DecodeDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	var dyn, metas, events []runtime.Object
	for _, o := range objs {
		switch o.GetKind() {
		case "ConfigMap":
			m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object["metadata"].(map[string]any), &m.ObjectMeta); err != nil {
				t.Fatal(err)
			}
			metas = append(metas, m)
		case "Event":
			e := &eventsv1.Event{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		default:
			dyn = append(dyn, o)
		}
	}
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "example.bosun.dev", Version: "v1"}, {Group: "apps", Version: "v1"}, {Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "example.bosun.dev", Version: "v1", Kind: "Site"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	d := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), testGVRs, dyn...)
	return &testCluster{dynamic: d, clients: &readClients{
		dynamic:   d,
		metadata:  metadatafake.NewSimpleMetadataClient(scheme, metas...),
		events:    kubefake.NewClientset(events...).EventsV1(),
		mapper:    mapper,
		namespace: "team-a",
	}}
}

func loadTestWatch(t *testing.T) *config.Watch {
	t.Helper()
	ws, err := config.Load(getWatchFile)
	if err != nil {
		t.Fatal(err)
	}
	return ws[0]
}

func TestGetPrintsEveryOwnerWithItsReadyStateChildrenAndVersion(t *testing.T) {
	tests := []struct {
		name      string
		opts      getOptions
		golden    string
		wantReady bool
	}{
		{
			name:   "the table of the context's namespace shows each owner's Ready condition, children and version",
			golden: "testdata/get/team-a.txt",
		},
		{
			name:   "-A lists every namespace, with a NAMESPACE column; children in a workload cluster are counted, not read",
			opts:   getOptions{AllNamespaces: true},
			golden: "testdata/get/all-namespaces.txt",
		},
		{
			name:   "on a terminal MESSAGE is cut to its width",
			opts:   getOptions{width: 110},
			golden: "testdata/get/terminal.txt",
		},
		{
			name:   "-o json prints the documented schema",
			opts:   getOptions{Output: "json", AllNamespaces: true},
			golden: "testdata/get/all-namespaces.json",
		},
		{
			name:   "-o yaml prints the same as YAML",
			opts:   getOptions{Output: "yaml", Namespace: "team-b"},
			golden: "testdata/get/team-b.yaml",
			// edge is Ready: every owner listed is.
			wantReady: true,
		},
		{
			name:      "--selector narrows the watch's owners to those with the labels",
			opts:      getOptions{Selector: "tier=web"},
			golden:    "testdata/get/selector.txt",
			wantReady: true,
		},
		{
			name:      "no owner found is all ready, and said on stderr",
			opts:      getOptions{Namespace: "team-c"},
			golden:    "testdata/get/none.txt",
			wantReady: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			o := tc.opts
			o.ConfigPath, o.now = getWatchFile, func() time.Time { return testNow }
			var out, errOut bytes.Buffer
			ready, err := runGet(context.Background(), o, c.clients, &out, &errOut)
			if err != nil {
				t.Fatal(err)
			}
			if ready != tc.wantReady {
				t.Errorf("ready = %v, want %v", ready, tc.wantReady)
			}
			got := out.String()
			if errOut.Len() > 0 {
				got += "--- stderr\n" + errOut.String()
			}
			golden(t, tc.golden, got)
		})
	}
}

func TestGetRefusesWhatItCannotDo(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"without --config there are no watches", []string{"get"}, `bosun: required flag(s) "config" not set`},
		{"an unknown output format", []string{"get", "-c", getWatchFile, "-o", "xml"}, `bosun: --output "xml": want json or yaml (or nothing, for a table)`},
		{"explain needs one owner", []string{"explain"}, "bosun: accepts 1 arg(s), received 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := bosun(t, "", tc.args...)
			if code != 2 || !strings.HasPrefix(stderr, tc.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.wantStderr)
			}
		})
	}
	t.Run("a --watch the config does not hold", func(t *testing.T) {
		c := newTestCluster(t)
		_, err := runGet(context.Background(), getOptions{ConfigPath: getWatchFile, Watch: "widgets"}, c.clients, &bytes.Buffer{}, &bytes.Buffer{})
		want := `testdata/get/watch.yaml: no watch named "widgets"; it holds sites`
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
	})
}

// syncBuffer is a bytes.Buffer for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGetFollowPrintsALineForEveryOwnerWhoseLineChanges(t *testing.T) {
	c := newTestCluster(t)
	watcher := watch.NewFake()
	watching := make(chan struct{})
	c.dynamic.PrependWatchReactor("sites", func(clienttesting.Action) (bool, watch.Interface, error) {
		close(watching)
		return true, watcher, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	type result struct {
		ready bool
		err   error
	}
	done := make(chan result)
	go func() {
		ready, err := runGet(ctx, getOptions{ConfigPath: getWatchFile, Selector: "tier=web", Follow: true, now: func() time.Time { return testNow }}, c.clients, &out, &errOut)
		done <- result{ready, err}
	}()
	select {
	case <-watching:
	case <-time.After(10 * time.Second):
		t.Fatal("get --follow did not watch the owners")
	}

	web, err := c.dynamic.Resource(testSiteGVR).Namespace("team-a").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The same line is not printed again; a changed one is, and so is an owner that goes.
	watcher.Modify(web.DeepCopy())
	conds, _, _ := unstructured.NestedSlice(web.Object, "status", "conditions")
	conds[1] = map[string]any{"type": "Ready", "status": "False", "reason": "ApplyFailed", "message": "Deployment/team-a/web: apply: connection refused",
		"observedGeneration": int64(1), "lastTransitionTime": "2026-01-02T15:04:00Z"}
	if err := unstructured.SetNestedSlice(web.Object, conds, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	watcher.Modify(web.DeepCopy())
	watcher.Delete(web.DeepCopy())
	watcher.Add(web.DeepCopy())

	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "\n") < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.ready {
		t.Error("ready = true, but the owner's last line is not Ready")
	}
	// The columns keep the widths of the first table; a wider cell pushes the rest.
	hash := shortHash(mustVersion(t).hash)
	want := `WATCH   NAME   READY   REASON   AGE   CHILDREN   VERSION    MESSAGE
sites   web    True    Ready    3d    3/3        ` + hash + `   all children are ready
sites   web    False   ApplyFailed   3d    3/3        ` + hash + `   Deployment/team-a/web: apply: connection refused
sites   web    Unknown   Deleted   3d    3/3        ` + hash + `   the owner is gone (or left the watch)
sites   web    False   ApplyFailed   3d    3/3        ` + hash + `   Deployment/team-a/web: apply: connection refused
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("get --follow printed (-want +got):\n%s\nstderr: %s", diff, errOut.String())
	}
}

func mustVersion(t *testing.T) *watchVersion {
	t.Helper()
	v, err := currentVersion(loadTestWatch(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGetVersionNamesTheChartOfAnOwnerOnTheCurrentVersion(t *testing.T) {
	ws, err := config.Load("../../examples/site-chart/watch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := currentVersion(ws[0])
	if err != nil {
		t.Fatal(err)
	}
	md := cur.charts.Default.Metadata()
	owner := func(hash string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAnnotations(map[string]string{"bosun.dev/template-hash": hash})
		return u
	}
	tests := []struct {
		name  string
		owner *unstructured.Unstructured
		want  string
	}{
		{"an owner on the current charts shows its chart's name and version", owner(cur.hash), md.Name + "-" + md.Version},
		{"an owner on another version shows that hash, pending", owner("0123456789abcdef"), "01234567 (pending)"},
		{"an owner never rendered shows a dash", &unstructured.Unstructured{}, "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionOf(tc.owner, cur).Text; got != tc.want {
				t.Errorf("VERSION = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetGoesOnWhenChildrenCannotBeReadAndFailsWhenOwnersCannot(t *testing.T) {
	forbid := func(resource string) clienttesting.ReactionFunc {
		return func(clienttesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: resource}, "", errors.New("RBAC says no"))
		}
	}
	t.Run("a child kind that cannot be read is a note, and its children count as not ready", func(t *testing.T) {
		c := newTestCluster(t)
		c.dynamic.PrependReactor("list", "deployments", forbid("deployments"))
		var out, errOut bytes.Buffer
		_, err := runGet(context.Background(), getOptions{ConfigPath: getWatchFile, Selector: "tier=web", now: func() time.Time { return testNow }}, c.clients, &out, &errOut)
		if err != nil {
			t.Fatal(err)
		}
		wantErr := "note: children of kind Deployment.apps: list deployments: deployments.apps is forbidden: RBAC says no\n"
		if diff := cmp.Diff(wantErr, errOut.String()); diff != "" {
			t.Errorf("stderr (-want +got):\n%s", diff)
		}
		if !strings.Contains(out.String(), "   2/3   ") {
			t.Errorf("CHILDREN is not 2/3:\n%s", out.String())
		}
	})
	t.Run("owners that cannot be listed are an error", func(t *testing.T) {
		c := newTestCluster(t)
		c.dynamic.PrependReactor("list", "sites", forbid("sites"))
		_, err := runGet(context.Background(), getOptions{ConfigPath: getWatchFile}, c.clients, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.HasPrefix(err.Error(), "watch sites: list sites: ") {
			t.Errorf("error = %v, want the watch's list failure", err)
		}
	})
}
