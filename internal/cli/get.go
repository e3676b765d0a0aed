package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/bosun-dev/bosun/config"
)

// getOptions are the flags of get.
type getOptions struct {
	ConfigPath    string
	Watch         string
	Namespace     string
	AllNamespaces bool
	Selector      string
	Output        string
	Follow        bool
	kubeFlags

	// now is the clock AGE is measured with, width the terminal width MESSAGE is cut to (0:
	// not a terminal, nothing is cut); tests set them.
	now   func() time.Time
	width int
}

func newGetCommand() *cobra.Command {
	o := getOptions{}
	cmd := &cobra.Command{
		Use:   "get --config WATCH.yaml",
		Short: "List the owners of the watches with their Ready state, children and template version",
		Long: `List every owner of the watches in --config (or of the one --watch names), as bosun left
them: the Ready condition (READY, REASON, MESSAGE), the children's health (CHILDREN: ready of
recorded, read from the cluster), and which template or chart version rendered each (VERSION;
"(pending)" when the watch's current templates have not reached it yet). Nothing is changed and
no bosun process is needed: everything comes from the owners and their children.

An owner being deleted shows READY False with reason Deleting; one whose Ready condition was
written for an older generation shows Unknown with reason Stale; one without a Ready condition
(not reconciled yet, or its watch writes no status) Unknown with reason NotReconciled.

--follow (-w) keeps listing: after the table it prints a line for every owner whose line
changes, as kubectl get --watch does, until interrupted.

-o json and -o yaml print a list with one object per owner (see docs/get-and-explain.md for
the schema); with --follow, one object per change.

Exit status: 0 every owner listed is Ready (or none is listed), 1 some owner is not Ready,
2 an error.`,
		Example: `  bosun get -c /etc/bosun/ -A
  bosun get -c examples/site/watch.yaml -n team-a -l tier=web
  bosun get -c /etc/bosun/ --watch sites -o json | jq -r '.[] | select(.ready != "True") | .name'
  bosun get -c /etc/bosun/ -A -w`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{errorExitCodeAnnotation: "2"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			c, err := o.readClients()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if o.Follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
			}
			o.width = terminalWidth(cmd.OutOrStdout())
			return readyExit(runGet(ctx, o, c, cmd.OutOrStdout(), cmd.ErrOrStderr()))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them")
	f.StringVar(&o.Watch, "watch", "", "only the owners of this watch (its name)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "owners in this namespace (default: the kubeconfig context's)")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "owners in every namespace")
	f.StringVarP(&o.Selector, "selector", "l", "", "only owners with these labels (a label selector, as kubectl's), besides the watch's own selector")
	f.StringVarP(&o.Output, "output", "o", "", "output format: json or yaml (default: a table)")
	f.BoolVarP(&o.Follow, "follow", "w", false, "after the list, print every change of an owner's line until interrupted (kubectl get --watch)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster config)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// checkOutput refuses an unknown -o.
func checkOutput(o string) error {
	switch o {
	case "", "json", "yaml":
		return nil
	}
	return fmt.Errorf("--output %q: want json or yaml (or nothing, for a table)", o)
}

// getRow is one owner in get's output; its JSON form is the schema of -o json and -o yaml,
// documented in docs/get-and-explain.md: add fields, never rename or remove them.
type getRow struct {
	Watch      string `json:"watch"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	// Ready is True, False or Unknown; Reason and Message are the Ready condition's, or
	// Deleting, Stale or NotReconciled (get_owner.go).
	Ready   string `json:"ready"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Created is the owner's creationTimestamp (RFC 3339); AGE is measured from it.
	Created  string      `json:"created"`
	Children childCounts `json:"children"`
	// Version is the VERSION column; TemplateHash what the owner records, CurrentHash the
	// watch's templates' (empty when they do not load).
	Version            string `json:"version"`
	TemplateHash       string `json:"templateHash,omitempty"`
	CurrentHash        string `json:"currentHash,omitempty"`
	PendingRollout     bool   `json:"pendingRollout"`
	Paused             bool   `json:"paused"`
	Deleting           bool   `json:"deleting"`
	Generation         int64  `json:"generation"`
	ObservedGeneration int64  `json:"observedGeneration"`
	// Deleted is set only by --follow, on the line of an owner that went away.
	Deleted bool `json:"deleted,omitempty"`

	created time.Time
}

// key identifies the row of an owner across --follow's updates.
func (r getRow) key() string { return r.Watch + "/" + r.UID }

// getWatch is one watch of get, with what listing its owners needs.
type getWatch struct {
	w          *config.Watch
	gvr        schema.GroupVersionResource
	namespaced bool
	version    *watchVersion
}

// getter lists the owners of the watches.
type getter struct {
	o       getOptions
	c       *readClients
	watches []*getWatch
	ns      string // metav1.NamespaceAll with -A
	stderr  io.Writer
}

// runGet prints the owners of the watches; ready reports whether every one listed is Ready.
func runGet(ctx context.Context, o getOptions, c *readClients, stdout, stderr io.Writer) (ready bool, err error) {
	if o.now == nil {
		o.now = time.Now
	}
	g, err := newGetter(o, c, stderr)
	if err != nil {
		return false, err
	}
	// A watch whose owners cannot be listed fails the command (exit 2), after the others'.
	lists, listErr := g.listAll(ctx)
	rows, notes := g.rows(ctx, lists, childSelector, g.ns == metav1.NamespaceAll)
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	p := g.printer(stdout, rows)
	if err := p.all(rows); err != nil {
		return false, err
	}
	switch {
	case listErr != nil:
		return false, listErr
	case len(rows) == 0 && o.Output == "":
		fmt.Fprintln(stderr, g.noneFound())
	}
	if o.Follow {
		return g.follow(ctx, lists, rows, p)
	}
	return allReady(rows), nil
}

func allReady(rows []getRow) bool {
	return !slices.ContainsFunc(rows, func(r getRow) bool { return r.Ready != string(metav1.ConditionTrue) })
}

// newGetter loads the watches and maps their kinds; a kind the API server does not serve has
// no owners, which is said, not an error.
func newGetter(o getOptions, c *readClients, stderr io.Writer) (*getter, error) {
	watches, err := config.Load(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	if o.Watch != "" {
		w, err := pickWatch(o.ConfigPath, o.Watch, watches)
		if err != nil {
			return nil, err
		}
		watches = []*config.Watch{w}
	}
	g := &getter{o: o, c: c, ns: o.Namespace, stderr: stderr}
	if g.ns == "" {
		g.ns = c.namespace
	}
	if o.AllNamespaces {
		g.ns = metav1.NamespaceAll
	}
	for _, w := range watches {
		mapping, err := c.mapper.RESTMapping(w.GVK.GroupKind(), w.GVK.Version)
		if meta.IsNoMatchError(err) {
			fmt.Fprintf(stderr, "note: watch %s: kind %s is not served by the API server (is its CRD installed?): no owners\n", w.Name, config.GVKString(w.GVK))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("watch %s: %s: %w", w.Name, config.GVKString(w.GVK), err)
		}
		gw := &getWatch{w: w, gvr: mapping.Resource, namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}
		if gw.version, err = currentVersion(w); err != nil {
			fmt.Fprintf(stderr, "note: watch %s: %v: VERSION cannot tell pending rollouts\n", w.Name, err)
		}
		g.watches = append(g.watches, gw)
	}
	return g, nil
}

// selector is the label selector of a watch's owners: the watch's and --selector, both.
func (g *getter) selector(gw *getWatch) string {
	var parts []string
	for _, s := range []string{gw.w.SelectorText, g.o.Selector} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

// namespace is where a watch's owners are listed: cluster-scoped owners have none.
func (g *getter) namespace(gw *getWatch) string {
	if !gw.namespaced {
		return metav1.NamespaceAll
	}
	return g.ns
}

// ownerList is the owners of one watch as one list returned them.
type ownerList struct {
	gw              *getWatch
	owners          []*unstructured.Unstructured
	resourceVersion string
}

func (g *getter) listAll(ctx context.Context) ([]ownerList, error) {
	var lists []ownerList
	var errs []error
	for _, gw := range g.watches {
		l, err := g.list(ctx, gw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lists = append(lists, l)
	}
	return lists, errors.Join(errs...)
}

// list reads the owners of one watch, leaving out those its namespaces do not cover.
func (g *getter) list(ctx context.Context, gw *getWatch) (ownerList, error) {
	l := ownerList{gw: gw}
	opts := metav1.ListOptions{LabelSelector: g.selector(gw), Limit: 500}
	for {
		page, err := g.c.dynamic.Resource(gw.gvr).Namespace(g.namespace(gw)).List(ctx, opts)
		if err != nil {
			return l, fmt.Errorf("watch %s: list %s: %w", gw.w.Name, gw.gvr.Resource, err)
		}
		for i := range page.Items {
			if o := &page.Items[i]; covers(gw.w, o) {
				l.owners = append(l.owners, o)
			}
		}
		if page.GetContinue() == "" {
			l.resourceVersion = page.GetResourceVersion()
			return l, nil
		}
		opts.Continue = page.GetContinue()
	}
}

// rows builds the owners' rows, reading their children once for all of them (see
// readChildren for the cost) with the children selector; allNamespaces reads each child kind
// in every namespace at once. notes say which kinds of children could not be read.
func (g *getter) rows(ctx context.Context, lists []ownerList, selector string, allNamespaces bool) (rows []getRow, notes []string) {
	needs := childNeeds{}
	for _, l := range lists {
		for _, o := range l.owners {
			children, _ := recordedChildren(o)
			needs.addRecorded(children, allNamespaces)
		}
	}
	live := readChildren(ctx, g.c, needs, selector)
	rows = []getRow{}
	for _, l := range lists {
		for _, o := range l.owners {
			rows = append(rows, g.row(l.gw, o, live))
		}
	}
	slices.SortFunc(rows, g.compareRows)
	return rows, live.notes()
}

// compareRows orders rows by watch, in config order, then namespace and name.
func (g *getter) compareRows(a, b getRow) int {
	index := func(watch string) int {
		return slices.IndexFunc(g.watches, func(gw *getWatch) bool { return gw.w.Name == watch })
	}
	if c := index(a.Watch) - index(b.Watch); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// row is one owner's line.
func (g *getter) row(gw *getWatch, o *unstructured.Unstructured, live liveChildren) getRow {
	r := readinessOf(o)
	v := versionOf(o, gw.version)
	observed, _, _ := unstructured.NestedInt64(o.Object, "status", "observedGeneration")
	return getRow{
		Watch: gw.w.Name, APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(),
		UID: string(o.GetUID()), Ready: string(r.Status), Reason: r.Reason, Message: r.Message,
		Created: o.GetCreationTimestamp().UTC().Format(time.RFC3339), created: o.GetCreationTimestamp().Time,
		Children: countChildren(o, live), Version: v.Text, TemplateHash: v.Hash, CurrentHash: v.Current, PendingRollout: v.Pending,
		Paused: paused(o), Deleting: o.GetDeletionTimestamp() != nil, Generation: o.GetGeneration(), ObservedGeneration: observed,
	}
}

func (g *getter) noneFound() string {
	if g.ns == metav1.NamespaceAll {
		return "No owners found."
	}
	return fmt.Sprintf("No owners found in namespace %s.", g.ns)
}

// age is the AGE column, as kubectl shows it.
func age(created, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created))
}

// readyExit is the exit of get and explain: err, else 1 when some owner is not Ready.
func readyExit(ready bool, err error) error {
	if err == nil && !ready {
		return exitCode(1)
	}
	return err
}
