package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	yamlv3 "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/strvals"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bosun-dev/bosun/config"
)

func newImportHelmOperatorCommand(o *importOptions) *cobra.Command {
	var env []string
	var shell bool
	cmd := &cobra.Command{
		Use:   "helm-operator WATCHES.yaml",
		Short: "Turn helm-operator's watches.yaml into bosun watches, one per entry",
		Long: `Turn the watches.yaml of a Helm-based operator (operator-sdk's helm-operator) into bosun
watches, one per entry:

  group, version, kind      watch: {group, version, kind}
  chart                     chart: (relative to the watches file's directory, where
                            operator-sdk projects keep helm-charts/; /opt/helm/..., the
                            operator image's directory, is looked up there too)
                            valuesFrom: spec (helm-operator's convention)
  overrideValues            overrideValues:, its dotted keys (image.tag) made nested maps
                            and every value a string, as helm-operator parsed them
  reconcilePeriod           resync: (at least 30s)
  maxConcurrentReconciles   workers: (at most 256)
  selector                  selector: as a label selector string
                            children: {adoptHelmReleases: true}, to take over the objects
                            of each owner's Helm release without re-creating them

watchDependentResources: false and dryRunOption have no equivalent (bosun always watches its
children; a chart's lookup always reads the cluster): they are named in comments and notes.

helm-operator expanded $NAME and ${NAME} in overrideValues from its own environment when it
started, then ran them as templates. bosun expands nothing, so import does it once, with the
values the operator's Deployment gave: a value naming a variable that neither --env nor, with
--expand-env, this shell's environment gives is an error, never an empty string.`,
		Example: `  bosun import helm-operator watches.yaml
  bosun import helm-operator watches.yaml --env IMAGE_REPOSITORY=quay.io/acme/nginx --out watches/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := parseImportEnv(env, shell)
			if err != nil {
				return err
			}
			watches, err := importHelmOperator(args[0], o.PathsFrom, e)
			if err != nil {
				return err
			}
			return writeImported(o, watches, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&env, "env", nil, "NAME=VALUE: an environment variable overrideValues name ($NAME, ${NAME}), as the operator's Deployment set it; repeatable")
	f.BoolVar(&shell, "expand-env", false, "take the variables overrideValues name that --env does not give from this shell's environment")
	return cmd
}

// helmOperatorKeys are the keys of a watches.yaml entry (operator-sdk's internal/helm/watches
// and helm-operator-plugins' pkg/watches).
var helmOperatorKeys = []string{"group", "version", "kind", "chart", "watchDependentResources", "overrideValues",
	"reconcilePeriod", "maxConcurrentReconciles", "selector", "dryRunOption"}

// importHelmOperator reads a watches.yaml and returns its watches, or every problem of the file.
func importHelmOperator(file, pathsFrom string, env importEnv) ([]*importedWatch, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, pathErr(file, err)
	}
	base := pathsFrom
	if base == "" {
		base = filepath.Dir(file)
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, yamlFileError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: no watches", file)
	}
	list := doc.Content[0]
	if list.Kind != yamlv3.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of watches, as helm-operator's watches.yaml holds", file, list.Line)
	}
	var (
		watches []*importedWatch
		errs    []error
	)
	for _, item := range list.Content {
		w, err := helmOperatorWatch(file, base, item, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		watches = append(watches, w)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(watches) == 0 {
		return nil, fmt.Errorf("%s: no watches", file)
	}
	return watches, nil
}

// helmOperatorWatch turns one entry of watches.yaml into a watch.
func helmOperatorWatch(file, base string, item *yamlv3.Node, env importEnv) (*importedWatch, error) {
	at := func(n *yamlv3.Node) string { return fmt.Sprintf("%s:%d", file, n.Line) }
	if item.Kind != yamlv3.MappingNode {
		return nil, fmt.Errorf("%s: a watch is a mapping (group, version, kind, chart, ...)", at(item))
	}
	w := &importedWatch{from: at(item) + " (helm-operator)"}
	var errs []error
	fail := func(n *yamlv3.Node, key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", at(n), key, fmt.Sprintf(format, args...)))
	}
	keys := map[string]*yamlv3.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		// helm-operator decodes with encoding/json, which matches keys case-insensitively.
		i := slices.IndexFunc(helmOperatorKeys, func(s string) bool { return strings.EqualFold(s, k.Value) })
		if i < 0 {
			w.loseKey(at(k), k.Value, "not a key of helm-operator's watches.yaml, which ignored it")
			continue
		}
		name := helmOperatorKeys[i]
		if keys[name] != nil {
			fail(k, name, "given twice")
		}
		keys[name] = v
	}
	str := func(key string, required bool) string {
		n := keys[key]
		switch {
		case n == nil && required:
			errs = append(errs, fmt.Errorf("%s: %s: missing (helm-operator requires it)", at(item), key))
		case n == nil, n.ShortTag() == "!!null":
		case n.Kind != yamlv3.ScalarNode || n.ShortTag() != "!!str":
			fail(n, key, "want a string")
		case n.Value == "" && required:
			fail(n, key, "must not be empty")
		default:
			return n.Value
		}
		return ""
	}
	group, version, kind, chart := str("group", false), str("version", true), str("kind", true), str("chart", true)

	w.name, w.group, w.version = strings.ToLower(kind), group, version
	w.set(importedField{key: "name", value: w.name})
	w.set(importedField{key: "watch", value: gvkNode(group, version, kind)})
	if chart != "" {
		path, note, err := helmOperatorChart(base, chart)
		if err != nil {
			fail(keys["chart"], "chart", "%v (paths are read relative to %s; see --paths-from)", err, base)
		}
		if note != "" {
			w.note(at(keys["chart"]), note)
		}
		w.set(importedField{key: "chart", value: path, path: true})
	}
	w.set(importedField{key: "valuesFrom", value: config.ValuesFromSpec, line: "helm-operator's convention: the owner's spec is the chart's values"})

	if n := keys["overrideValues"]; n != nil {
		values, expanded, err := helmOperatorOverrides(at, n, env)
		if err != nil {
			errs = append(errs, err)
		}
		var head []string
		for _, e := range expanded {
			w.note(e.at, "overrideValues: "+e.text)
			head = append(head, e.text)
		}
		if len(values) > 0 {
			w.set(importedField{key: "overrideValues", value: values, head: strings.Join(head, "\n")})
		}
	}
	if n := keys["reconcilePeriod"]; n != nil {
		if f, err := helmOperatorResync(str("reconcilePeriod", false)); err != nil {
			fail(n, "reconcilePeriod", "%v", err)
		} else if f != nil {
			w.set(*f)
		}
	}
	if n := keys["maxConcurrentReconciles"]; n != nil {
		workers, err := strconv.Atoi(n.Value)
		switch {
		case n.Kind != yamlv3.ScalarNode || n.ShortTag() != "!!int" || err != nil:
			fail(n, "maxConcurrentReconciles", "want an integer")
		case workers < 1:
			fail(n, "maxConcurrentReconciles", "want at least 1")
		case workers > config.MaxWorkers:
			w.set(importedField{key: "workers", value: config.MaxWorkers, line: fmt.Sprintf("maxConcurrentReconciles %d, lowered to bosun's maximum", workers)})
		default:
			w.set(importedField{key: "workers", value: workers, line: "maxConcurrentReconciles"})
		}
	}
	if n := keys["selector"]; n != nil {
		sel, err := helmOperatorSelector(n)
		if err != nil {
			fail(n, "selector", "%v", err)
		} else if sel != "" {
			w.set(importedField{key: "selector", value: sel})
		}
	}
	w.set(importedField{key: "children", value: map[string]any{"adoptHelmReleases": true}, flow: true,
		head: "Takes over the objects of each owner's Helm release (helm-operator named it after the owner)\n" +
			"without re-creating them; set it to false once every owner is Ready (docs/migration.md)."})

	if n := keys["watchDependentResources"]; n != nil {
		switch v, err := strconv.ParseBool(n.Value); {
		case n.ShortTag() != "!!bool" || err != nil:
			fail(n, "watchDependentResources", "want true or false")
		case !v:
			w.loseKey(at(n), "watchDependentResources: false", "bosun always watches its children and puts back what others change")
		}
	}
	if n := keys["dryRunOption"]; n != nil {
		w.loseKey(at(n), "dryRunOption: "+str("dryRunOption", false), "bosun renders a chart once per reconcile, and its lookup always reads the cluster")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// gvkNode is watch: {group: ..., version: ..., kind: ...} in that order.
func gvkNode(group, version, kind string) *yamlv3.Node {
	n := &yamlv3.Node{Kind: yamlv3.MappingNode, Style: yamlv3.FlowStyle}
	for _, kv := range [][2]string{{"group", group}, {"version", version}, {"kind", kind}} {
		n.Content = append(n.Content,
			&yamlv3.Node{Kind: yamlv3.ScalarNode, Value: kv[0]},
			&yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: kv[1]})
	}
	return n
}

// helmOperatorChart resolves a chart path. operator-sdk's images run from /opt/helm, where the
// project's helm-charts/ is copied, and older scaffolds wrote chart: /opt/helm/helm-charts/NAME:
// such a path is looked up below base when it does not exist here.
func helmOperatorChart(base, chart string) (path, note string, err error) {
	path, err = existingPath(base, chart)
	if err == nil {
		return path, "", nil
	}
	if rest, ok := strings.CutPrefix(filepath.ToSlash(chart), "/opt/helm/"); ok {
		if p, perr := existingPath(base, rest); perr == nil {
			return p, fmt.Sprintf("chart %s is the operator image's path; used %s", chart, filepath.Join(base, rest)), nil
		}
	}
	return "", "", err
}

// existingPath joins a relative path to base and checks that it exists.
func existingPath(base, path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		return "", pathErr(path, err)
	}
	return path, nil
}

// expansion says where and how import expanded an overrideValues value.
type expansion struct{ at, text string }

// helmOperatorOverrides turns overrideValues into bosun's nested values as helm-operator did:
// each value expanded, then "KEY=VALUE" parsed as helm --set-string parses it. It also returns
// what was expanded, one per value.
func helmOperatorOverrides(at func(*yamlv3.Node) string, n *yamlv3.Node, env importEnv) (map[string]any, []expansion, error) {
	if n.ShortTag() == "!!null" {
		return nil, nil, nil
	}
	if n.Kind != yamlv3.MappingNode {
		return nil, nil, fmt.Errorf("%s: overrideValues: want a mapping of keys to strings", at(n))
	}
	type pair struct{ k, v *yamlv3.Node }
	var pairs []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
	}
	// helm-operator went through a map in no particular order; sorted, the output is stable.
	slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k.Value, b.k.Value) })
	out := map[string]any{}
	var expanded []expansion
	var errs []error
	for _, p := range pairs {
		key, raw := p.k.Value, p.v.Value
		switch {
		case p.v.ShortTag() == "!!null":
			raw = ""
		case p.v.Kind != yamlv3.ScalarNode || p.v.ShortTag() != "!!str":
			errs = append(errs, fmt.Errorf("%s: overrideValues: %s: want a string (helm-operator refused anything else): quote it", at(p.v), key))
			continue
		}
		value, err := env.expandOverride(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: overrideValues: %s: %w", at(p.v), key, err))
			continue
		}
		if value != raw {
			expanded = append(expanded, expansion{at(p.v), fmt.Sprintf("%s: %q, expanded at import to %q (helm-operator expanded it at start)", key, raw, value)})
		}
		if err := strvals.ParseIntoString(key+"="+value, out); err != nil {
			errs = append(errs, fmt.Errorf("%s: overrideValues: %s: %w", at(p.k), key, err))
		}
	}
	return out, expanded, errors.Join(errs...)
}

// helmOperatorResync turns reconcilePeriod into resync, raised to bosun's minimum.
func helmOperatorResync(text string) (*importedField, error) {
	if text == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		return nil, err
	case d < 0:
		return nil, errors.New("must not be negative")
	case d > 0 && d < config.MinResync:
		return &importedField{key: "resync", value: config.MinResync.String(), line: fmt.Sprintf("reconcilePeriod %s, raised to bosun's minimum", text)}, nil
	}
	return &importedField{key: "resync", value: text, line: "reconcilePeriod"}, nil
}

// helmOperatorSelector turns a metav1.LabelSelector into the string form bosun reads.
func helmOperatorSelector(n *yamlv3.Node) (string, error) {
	var raw any
	if err := n.Decode(&raw); err != nil {
		return "", err
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return "", err
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(b, &ls); err != nil {
		return "", fmt.Errorf("want matchLabels and matchExpressions: %w", err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return "", err
	}
	if sel.Empty() {
		return "", nil
	}
	return sel.String(), nil
}

// yamlFileError puts the file and line in front of a YAML parser's error: "yaml: line 3: x"
// becomes "FILE:3: x".
func yamlFileError(file string, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if line, text, ok := strings.Cut(rest, ": "); ok {
			return fmt.Errorf("%s:%s: %s", file, line, text)
		}
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(msg, "yaml: "))
}
