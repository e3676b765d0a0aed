package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

// explainOptions are the flags of explain.
type explainOptions struct {
	ConfigPath string
	Namespace  string
	Output     string
	kubeFlags

	// now is the clock times are shown against; tests set it.
	now func() time.Time
}

func newExplainCommand() *cobra.Command {
	o := explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain KIND/NAMESPACE/NAME",
		Short: "Explain why an owner is where it is: conditions, children's health, hooks, rollout, Events",
		Long: `Explain one owner from what the cluster holds — no bosun process is needed: its Ready and
Applied conditions (with when they changed) and what clears a failure, whether it is paused,
carries bosun's finalizer or is being deleted, which template version rendered it (with
--config: whether a newer one is still to reach it), the Helm hooks run, the last prune, each
child's health by kstatus rules (children recorded in workload clusters are shown as recorded,
not read), the last Event bosun recorded on it, and its recent Events (newest first, at most 10).

KIND is the kind or resource, in any case, optionally with its group: site, Site, sites,
Site.example.bosun.dev. KIND/NAME takes the namespace from --namespace or the kubeconfig
context, and names a cluster-scoped owner. --config resolves kinds from the watches without
asking discovery first, and compares the owner's template version with the watch's.

Exit status: 0 the owner is Ready, 1 it is not, 2 an error (it does not exist, say).`,
		Example: `  bosun explain site/team-a/web
  bosun explain Site.example.bosun.dev/team-a/web -c /etc/bosun/
  bosun explain widget/broken -n team-b -o yaml`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{errorExitCodeAnnotation: "2"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			c, err := o.readClients()
			if err != nil {
				return err
			}
			return readyExit(runExplain(cmd.Context(), o, c, args[0], cmd.OutOrStdout()))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them: resolves kinds and tells pending rollouts (optional)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of KIND/NAME (default: the kubeconfig context's)")
	f.StringVarP(&o.Output, "output", "o", "", "output format: json or yaml (default: text)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	return cmd
}

// runExplain explains the owner arg names; ready reports whether it is Ready.
func runExplain(ctx context.Context, o explainOptions, c *readClients, arg string, out io.Writer) (ready bool, err error) {
	if o.now == nil {
		o.now = time.Now
	}
	var watches []*config.Watch
	if o.ConfigPath != "" {
		if watches, err = config.Load(o.ConfigPath); err != nil {
			return false, err
		}
	}
	ref, err := parseOwnerArg(arg)
	if err != nil {
		return false, err
	}
	mapping, err := resolveKind(ref.kind, watches, c.mapper)
	if err != nil {
		return false, err
	}
	ns := ref.namespace
	switch {
	case mapping.Scope.Name() != meta.RESTScopeNameNamespace:
		if ns != "" {
			return false, fmt.Errorf("%s: kind %s is cluster-scoped: name it %s/NAME", arg, mapping.GroupVersionKind.Kind, ref.kind)
		}
	case ns == "" && o.Namespace != "":
		ns = o.Namespace
	case ns == "":
		ns = c.namespace
	}
	owner, err := c.dynamic.Resource(mapping.Resource).Namespace(ns).Get(ctx, ref.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, fmt.Errorf("%s: not found", applier.Ref{Kind: mapping.GroupVersionKind.Kind, Namespace: ns, Name: ref.name})
	}
	if err != nil {
		return false, fmt.Errorf("%s: get: %w", applier.Ref{Kind: mapping.GroupVersionKind.Kind, Namespace: ns, Name: ref.name}, err)
	}
	x := explain(ctx, c, owner, watches, o.now())
	if err := printExplanation(out, o.Output, x, o.now()); err != nil {
		return false, err
	}
	return x.Ready == string(metav1.ConditionTrue), nil
}

// ownerArg is KIND/NAMESPACE/NAME or KIND/NAME split.
type ownerArg struct{ kind, namespace, name string }

func parseOwnerArg(arg string) (ownerArg, error) {
	parts := strings.Split(arg, "/")
	if slices.Contains(parts, "") || len(parts) < 2 || len(parts) > 3 {
		return ownerArg{}, fmt.Errorf("%q: want KIND/NAMESPACE/NAME or KIND/NAME, e.g. site/team-a/web", arg)
	}
	if len(parts) == 2 {
		return ownerArg{kind: parts[0], name: parts[1]}, nil
	}
	return ownerArg{kind: parts[0], namespace: parts[1], name: parts[2]}, nil
}

// resolveKind maps KIND of the argument: first to a watched kind (Kind or Kind.group, in any
// case), then through discovery as kubectl does (kind, singular, plural or short name, with
// an optional .group or .version.group).
func resolveKind(kind string, watches []*config.Watch, mapper meta.RESTMapper) (*meta.RESTMapping, error) {
	for _, w := range watches {
		if strings.EqualFold(kind, w.GVK.Kind) || strings.EqualFold(kind, w.GVK.GroupKind().String()) {
			mapping, err := mapper.RESTMapping(w.GVK.GroupKind(), w.GVK.Version)
			if err != nil {
				return nil, fmt.Errorf("watch %s: kind %s is not served by the API server (is its CRD installed?): %w", w.Name, config.GVKString(w.GVK), err)
			}
			return mapping, nil
		}
	}
	var gvk schema.GroupVersionKind
	var err error
	full, gr := schema.ParseResourceArg(strings.ToLower(kind))
	if full != nil {
		gvk, err = mapper.KindFor(*full)
	}
	if full == nil || err != nil {
		gvk, err = mapper.KindFor(gr.WithVersion(""))
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("kind %q is not served by the API server (is its CRD installed? kubectl api-resources lists what is)", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("kind %q: %w", kind, err)
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("kind %q: %w", kind, err)
	}
	return mapping, nil
}

// watchOf is the watch of the owner's kind that covers it (its namespaces and selector), or,
// when none does, the first of its kind with covered false.
func watchOf(watches []*config.Watch, owner *unstructured.Unstructured) (w *config.Watch, covered bool) {
	for _, cand := range watches {
		if cand.GVK.GroupKind() != owner.GroupVersionKind().GroupKind() {
			continue
		}
		if covers(cand, owner) {
			return cand, true
		}
		if w == nil {
			w = cand
		}
	}
	return w, false
}

// explain gathers what the cluster holds about the owner. What cannot be read (children of a
// kind, Events) is said in Notes, not returned as an error.
func explain(ctx context.Context, c *readClients, owner *unstructured.Unstructured, watches []*config.Watch, now time.Time) *explanation {
	x := newExplanation(owner)
	if len(watches) > 0 {
		w, covered := watchOf(watches, owner)
		switch {
		case w == nil:
			x.Notes = append(x.Notes, "no watch of --config watches kind "+owner.GroupVersionKind().GroupKind().String())
		case !covered:
			x.Watch = w.Name
			x.Notes = append(x.Notes, fmt.Sprintf("watch %s does not cover this owner (its namespaces or selector %q leave it out): bosun does not reconcile it", w.Name, w.SelectorText))
		default:
			x.Watch = w.Name
		}
		if w != nil {
			cur, err := currentVersion(w)
			if err != nil {
				x.Notes = append(x.Notes, fmt.Sprintf("watch %s: %v: cannot tell a pending rollout", w.Name, err))
			}
			v := versionOf(owner, cur)
			x.Version.Current, x.Version.PendingRollout, x.Version.Text = v.Current, v.Pending, v.Text
		}
	}
	x.Children = explainChildren(ctx, c, owner, &x.Notes)
	events, err := ownerEvents(ctx, c, owner)
	if err != nil {
		x.Notes = append(x.Notes, err.Error())
	}
	for _, e := range events {
		if e.From == bosunController {
			x.LastBosunEvent = &e
			break
		}
	}
	x.Events = append(x.Events, events[:min(len(events), maxEvents)]...)
	return x
}

// explainChildren is every recorded child with its health, and the children found in the hub
// with the owner's UID that it does not record (stale: bosun prunes them at its next
// reconcile). Their kinds are read as readChildren does, with the owner-uid selector, in the
// namespaces the children are recorded in and those of the owner's inventory.
func explainChildren(ctx context.Context, c *readClients, owner *unstructured.Unstructured, notes *[]string) []explainChild {
	recorded, _ := recordedChildren(owner)
	needs := childNeeds{}
	needs.addRecorded(recorded, false)
	inv := applier.InventoryOf(owner)
	if len(inv.Clusters) == 0 || inv.In(applier.LocalCluster) {
		for _, gk := range inv.Kinds {
			for _, ns := range append([]string{owner.GetNamespace()}, inv.Namespaces...) {
				needs.add(gk, ns)
			}
		}
	}
	live := readChildren(ctx, c, needs, ownerChildSelector(owner.GetUID()))
	*notes = append(*notes, live.notes()...)
	out := []explainChild{}
	seen := map[applier.Ref]bool{}
	for _, rc := range recorded {
		h := live.health(rc, owner.GetUID())
		if !rc.remote() {
			seen[rc.ref()] = true
		}
		out = append(out, explainChild{recordedChild: rc, Health: string(h.Status), Message: h.Message, Recorded: true})
	}
	var extra []explainChild
	for ref, h := range live.found {
		if seen[ref] || h.OwnerUID != owner.GetUID() {
			continue
		}
		extra = append(extra, explainChild{
			recordedChild: recordedChild{Group: ref.Group, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name},
			Health:        string(h.Status), Message: "not in status.children: no longer rendered (bosun prunes it), or not recorded yet; " + h.Message,
		})
	}
	slices.SortFunc(extra, func(a, b explainChild) int { return strings.Compare(a.ref().String(), b.ref().String()) })
	return append(out, extra...)
}
