package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/bosun-dev/bosun/renderer"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/watcher"
)

// renderOptions are the flags of render.
type renderOptions struct {
	ConfigPath string
	Watch      string
	Files      []string
	Namespace  string
	WithLabels bool
	// Capabilities are what charts see as .Capabilities.
	Capabilities capabilities
	// Cluster and ClusterLabels are what templates see as .Cluster: the workload cluster the
	// children would go to (clusters:); default local.
	Cluster       string
	ClusterLabels map[string]string
	// clusterGiven: --cluster was given; without it each owner renders for the clusters it
	// names or its watch's default (a selector needs --cluster offline).
	clusterGiven bool
}

func newRenderCommand() *cobra.Command {
	o := renderOptions{}
	cmd := &cobra.Command{
		Use:   "render --config WATCH.yaml -f OWNER.yaml",
		Short: "Render the children of owners from files, without a cluster",
		Long: `Render the children of owners read from files, as bosun would for the same owners, and
print them as multi-document YAML. Nothing is read from or sent to a cluster.

The children are printed exactly as the templates rendered them: without the labels,
annotations and ownerReference bosun adds, and without a namespace where the templates give
none. --with-labels prints them as bosun would apply them instead, in apply order; offline,
a child of a kind that is not built in is taken to be namespaced and put into its owner's
namespace ('bosun diff' asks the cluster).

An owner without metadata.namespace is put into --namespace, or "default", unless its kind is
a built-in cluster-scoped one. An owner read from a file has no metadata.uid unless the file
gives one, so .UID renders empty.`,
		Example: `  bosun render --config examples/site/watch.yaml -f examples/site/site.yaml
  kubectl get site hello -o yaml | bosun render -c examples/site/watch.yaml -f - --with-labels
  bosun render -c /etc/bosun/ --watch sites -f sites.yaml -n team-a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.clusterGiven = cmd.Flags().Changed("cluster")
			return runRender(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "watch config file, or a directory of them")
	f.StringVar(&o.Watch, "watch", "", "the watch to use when --config holds several (its name)")
	f.StringArrayVarP(&o.Files, "filename", "f", nil, `file of owners (multi-document YAML or JSON, a v1 List too); "-" reads stdin; repeatable`)
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of owners that have none (default \"default\")")
	f.BoolVar(&o.WithLabels, "with-labels", false, "print the children as bosun would apply them: with its labels, annotations and ownerReference")
	capabilityFlags(cmd, &o.Capabilities)
	f.StringVar(&o.Cluster, "cluster", config.LocalCluster, "render for this cluster (.Cluster.Name): a workload cluster the watch's clusters: sends children to")
	f.StringToStringVar(&o.ClusterLabels, "cluster-label", nil, "labels of --cluster (.Cluster.Labels), as key=value; repeatable")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// runRender renders every owner of o.Files and prints the children to stdout, notes about
// owners the watch would not reconcile to stderr.
func runRender(ctx context.Context, o renderOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	w, r, err := loadWatch(o.ConfigPath, o.Watch, o.Capabilities)
	if err != nil {
		return err
	}
	owners, err := readAllOwners(w, o.Files, stdin)
	if err != nil {
		return err
	}
	var errs []error
	for _, ow := range owners {
		defaultNamespace(ow.Object, o.Namespace)
		for _, note := range watchNotes(w, ow) {
			fmt.Fprintln(stderr, "note:", note)
		}
		names := []string{o.Cluster}
		if !o.clusterGiven {
			var note string
			if names, note = offlineClusters(w, ow.Object); note != "" {
				fmt.Fprintln(stderr, "note:", applier.OwnerRef(ow.Object)+":", note)
			}
		}
		for _, name := range names {
			cl := &renderer.Cluster{Name: name, Labels: o.ClusterLabels}
			children, err := render(renderer.WithCluster(ctx, cl), w, r, ow.Object)
			if err == nil && o.WithLabels {
				children, err = planned(ow.Object, children, watcher.ApplierPolicy(w.Children), name != config.LocalCluster)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ow.Source, err))
				continue
			}
			what := applier.OwnerRef(ow.Object)
			if name != config.LocalCluster {
				what += ", cluster: " + name
			}
			if err := printManifests(stdout, what, children); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

// planned returns the children as bosun would apply them, in apply order.
func planned(owner *unstructured.Unstructured, children []*unstructured.Unstructured, policy applier.Policy, remote bool) ([]*unstructured.Unstructured, error) {
	p, err := offlinePlan(owner, children, policy, remote)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", applier.OwnerRef(owner), err)
	}
	out := make([]*unstructured.Unstructured, len(p.Objects))
	for i, o := range p.Objects {
		out[i] = o.Object
	}
	return out, nil
}

// printManifests writes objs as YAML documents, each introduced by "---" and a comment naming
// the owner it was rendered for.
func printManifests(w io.Writer, owner string, objs []*unstructured.Unstructured) error {
	var b strings.Builder
	for _, obj := range objs {
		y, err := yaml.Marshal(obj.Object)
		if err != nil {
			return fmt.Errorf("%s: %s/%s: encode: %w", owner, obj.GetKind(), obj.GetName(), err)
		}
		fmt.Fprintf(&b, "---\n# owner: %s\n%s", owner, y)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// loadWatch loads the watch config at path and parses its templates. A path that holds
// several watches needs the name of one.
func loadWatch(path, name string, caps capabilities) (*config.Watch, source, error) {
	watches, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	w, err := pickWatch(path, name, watches)
	if err != nil {
		return nil, nil, err
	}
	r, err := newSource(w, caps)
	if err != nil {
		return nil, nil, err
	}
	return w, r, nil
}

func pickWatch(path, name string, watches []*config.Watch) (*config.Watch, error) {
	names := make([]string, len(watches))
	for i, w := range watches {
		if w.Name == name || (name == "" && len(watches) == 1) {
			return w, nil
		}
		names[i] = w.Name
	}
	if name == "" {
		return nil, fmt.Errorf("%s holds %d watches (%s): choose one with --watch", path, len(watches), strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%s: no watch named %q; it holds %s", path, name, strings.Join(names, ", "))
}

// offlineClusters are the clusters an owner's children go to, as far as the files tell: those
// it names (bosun.dev/cluster, clusters.field), else the watch's default. A watch's selector
// needs the hub's cluster Secrets: the note says to pass --cluster.
func offlineClusters(w *config.Watch, owner *unstructured.Unstructured) ([]string, string) {
	if v, ok := owner.GetAnnotations()[config.AnnotationCluster]; ok && len(applier.SplitList(v)) > 0 {
		return applier.SplitList(v), ""
	}
	if w.Clusters.Field != nil {
		switch v, _, _ := unstructured.NestedFieldNoCopy(owner.Object, w.Clusters.Field...); v := v.(type) {
		case string:
			if names := applier.SplitList(v); len(names) > 0 {
				return names, ""
			}
		case []any:
			var names []string
			for _, item := range v {
				if s, ok := item.(string); ok {
					names = append(names, s)
				}
			}
			if len(names) > 0 {
				return names, ""
			}
		}
	}
	if w.Clusters.Selector != nil {
		return []string{config.LocalCluster}, "its watch sends children to the clusters clusters.selector matches, which only the hub knows: rendered for local; pass --cluster NAME (and --cluster-label) to render for one"
	}
	if d := w.Clusters.Default; d != "" {
		return []string{d}, ""
	}
	return []string{config.LocalCluster}, ""
}
