package cli

import (
	"context"
	"fmt"
	"github.com/spf13/cobra"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

// source renders the children of an owner: a watch's templates (*renderer.Renderer) or its
// charts (*renderer.ChartSet).
type source interface {
	Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error)
	Hash() string
}

// capabilities are what a chart sees as .Capabilities offline: `helm template`'s
// --kube-version and --api-versions.
type capabilities struct {
	KubeVersion string
	APIVersions []string
}

// newSource parses the watch's templates, or loads its charts (parsing every template of
// every chart and subchart), failing with the file (and line) of the first problem.
func newSource(w *config.Watch, caps capabilities) (source, error) {
	if w.Chart == "" {
		r, err := renderer.New(w.Templates, renderer.Options{Values: w.Values, MaxObjects: w.Children.Max})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.File, err)
		}
		return r, nil
	}
	opts := renderer.ChartOptions{
		Values:      w.Values,
		Override:    w.OverrideValues,
		ValuesFrom:  w.ValuesFrom,
		KubeVersion: caps.KubeVersion,
		APIVersions: caps.APIVersions,
		MaxObjects:  w.Children.Max,
	}
	def, err := renderer.LoadChart(w.Chart, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.File, err)
	}
	named := map[string]*renderer.Chart{}
	for name, path := range w.Charts {
		if named[name], err = renderer.LoadChart(path, opts); err != nil {
			return nil, fmt.Errorf("%s: charts.%s: %w", w.File, name, err)
		}
	}
	return renderer.NewChartSet(def, named, config.AnnotationChart), nil
}

// describeSource says what a watch renders from, for check's summary line.
func describeSource(s source) string {
	switch s := s.(type) {
	case *renderer.Renderer:
		return plural(len(s.Templates()), "template")
	case *renderer.ChartSet:
		md := s.Default.Metadata()
		d := fmt.Sprintf("chart %s %s", md.Name, md.Version)
		if n := len(s.Named); n > 0 {
			d += fmt.Sprintf(" + %s", plural(n, "named chart"))
		}
		return d
	}
	return "?"
}

// capabilityFlags adds `helm template`'s --kube-version and --api-versions to an offline
// command.
func capabilityFlags(cmd *cobra.Command, caps *capabilities) {
	f := cmd.Flags()
	f.StringVar(&caps.KubeVersion, "kube-version", "", "Kubernetes version charts see as .Capabilities.KubeVersion (default: Helm's)")
	f.StringSliceVarP(&caps.APIVersions, "api-versions", "a", nil, "API versions charts see in .Capabilities.APIVersions besides Helm's defaults (repeatable)")
}
