package watcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func hookObj(kind, name, events, policy, weight string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": name}}}
	ann := map[string]string{}
	for k, v := range map[string]string{annotationHook: events, annotationHookDeletePolicy: policy, annotationHookWeight: weight} {
		if v != "" {
			ann[k] = v
		}
	}
	if len(ann) > 0 {
		u.SetAnnotations(ann)
	}
	return u
}

func hookNames(hs []hook) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.obj.GetName())
	}
	return out
}

func objNames(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

func TestPlanHooks(t *testing.T) {
	cm := hookObj("ConfigMap", "cm", "", "", "")
	sa := hookObj("ServiceAccount", "sa", "pre-install,pre-upgrade,post-install,post-upgrade", "before-hook-creation,hook-succeeded", "")
	job := hookObj("Job", "create", "pre-install,pre-upgrade", "", "5")
	first := hookObj("Job", "first", "pre-install", "", "-5")
	post := hookObj("Job", "patch", "post-install,post-upgrade", "hook-succeeded", "")
	del := hookObj("Job", "cleanup", "pre-delete", "", "")
	rendered := []*unstructured.Unstructured{cm, sa, job, first, post, del}
	token := func(o *unstructured.Unstructured, phase string) string { return newHook(o).token(phase) }

	tests := []struct {
		name                  string
		record                string
		wantKeep, wantPending []string
		wantPre, wantPost     []string
		wantInstalled         bool
	}{
		{
			name:        "a new owner runs its install hooks, pre in weight order; delete hooks wait for the deletion",
			wantKeep:    []string{"cm"},
			wantPending: []string{"sa", "create", "first", "patch"},
			wantPre:     []string{"first", "sa", "create"},
			wantPost:    []string{"sa", "patch"},
		},
		{
			name:          "once installed, hooks that ran stay applied unless hook-succeeded; nothing runs again",
			record:        token(sa, "pre") + "," + token(sa, "post") + "," + token(job, "pre") + "," + token(first, "pre") + "," + token(post, "post") + ",installed",
			wantKeep:      []string{"cm", "create", "first"},
			wantInstalled: true,
		},
		{
			name:          "an upgrade that changes a hook runs it again, in each of its phases",
			record:        token(job, "pre") + "," + token(post, "post") + ",installed",
			wantKeep:      []string{"cm", "create"},
			wantPending:   []string{"sa"},
			wantPre:       []string{"sa"},
			wantPost:      []string{"sa"},
			wantInstalled: true,
		},
		{
			name:        "an install interrupted after its pre hooks goes on with the post hooks",
			record:      token(sa, "pre") + "," + token(job, "pre") + "," + token(first, "pre"),
			wantKeep:    []string{"cm", "create", "first"},
			wantPending: []string{"sa", "patch"},
			wantPost:    []string{"sa", "patch"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hp := planHooks(tc.record, rendered)
			for _, c := range []struct {
				what      string
				want, got []string
			}{
				{"keep", tc.wantKeep, objNames(hp.keep)},
				{"pending", tc.wantPending, objNames(hp.pending)},
				{"pre", tc.wantPre, hookNames(hp.pre)},
				{"post", tc.wantPost, hookNames(hp.post)},
			} {
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			if hp.installed != tc.wantInstalled || !hp.hasHooks {
				t.Errorf("installed = %v, hasHooks = %v", hp.installed, hp.hasHooks)
			}
		})
	}
}

func TestHookRecordKeepsOnlyRenderedRuns(t *testing.T) {
	a := hookObj("Job", "a", "pre-install", "", "")
	hp := planHooks("pre:gone,"+newHook(a).token("pre"), []*unstructured.Unstructured{a})
	if got, want := hp.record([]string{"post:new"}, true), "post:new,"+newHook(a).token("pre")+",installed"; got != want {
		t.Errorf("record = %q, want %q", got, want)
	}
}
