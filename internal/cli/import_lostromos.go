package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/bosun-dev/bosun/renderer"
)

// lostromosSettings are Lostromos' settings (its cmd/start.go and cmd/cmd.go): the config key,
// the flag of lostromos start, and the default.
var lostromosSettings = []struct{ key, flag, def string }{
	{"crd.name", "crd-name", ""},
	{"crd.group", "crd-group", ""},
	{"crd.version", "crd-version", "v1"},
	{"crd.namespace", "crd-namespace", ""},
	{"crd.filter", "crd-filter", ""},
	{"templates", "templates", ""},
	{"helm.chart", "helm-chart", ""},
	{"helm.namespace", "helm-ns", "default"},
	{"helm.releasePrefix", "helm-prefix", "lostromos"},
	{"helm.tiller", "helm-tiller", "tiller-deploy:44134"},
	{"helm.wait", "helm-wait", "false"},
	{"helm.waitTimeout", "helm-wait-timeout", "120"},
	{"k8s.config", "kube-config", ""},
	{"nop", "nop", "false"},
	{"server.address", "server-address", ":8080"},
	{"server.metricsEndpoint", "metrics-endpoint", "/metrics"},
	{"server.statusEndpoint", "status-endpoint", "/status"},
	{"logging.debug", "debug", "false"},
	{"logging.pretty", "pretty", "false"},
}

// lostromosValue is one setting as Lostromos would have read it: from a flag it was given, else
// from the config file, else its default (at is then empty).
type lostromosValue struct {
	value, at string
}

func (v lostromosValue) set() bool { return v.at != "" }

type lostromosOptions struct {
	// Kind is the watched kind; Lostromos knew only the plural (crd.name).
	Kind string
	// CRD is a file holding the CRD, to read the kind from instead.
	CRD string
}

func newImportLostromosCommand(o *importOptions) *cobra.Command {
	lo := lostromosOptions{}
	cmd := &cobra.Command{
		Use:   "lostromos [CONFIG] [lostromos start flags]",
		Short: "Turn a Lostromos config file (and lostromos start flags) into a bosun watch",
		Long: `Turn the config of Lostromos (github.com/wpengine/lostromos) into one bosun watch. CONFIG is
the file lostromos start read with --config; lostromos start's own flags (--crd-name,
--templates, --helm-chart, ...) may be given too, or instead, and win over the file as they
did there. Relative paths are read against the current directory, as lostromos start read
them (see --paths-from).

  crd.group, crd.version    watch: {group, version, kind}: Lostromos knew the plural
  crd.name                  (crd.name) only, so give --kind, or --crd with the CRD
  crd.namespace             namespaces: [NAMESPACE]
  templates                 templates: the *.tmpl files that render what Lostromos rendered
                            (it executed only the first file; one that only calls the others
                            is replaced by them), and children: {adopt: true} to take over
                            the objects Lostromos applied without re-creating them
  helm.chart                chart: and valuesFrom: resource (.Values.resource.name,
                            .namespace, .spec, as Lostromos gave them)

Templates render unchanged: .GetField, .Name and .Resource work as in Lostromos. crd.filter
(an annotation), helm.namespace, helm.releasePrefix, helm.tiller, helm.wait, nop and the
server, logging and k8s settings have no equivalent in a watch: they are named in comments
and notes.`,
		Example: `  bosun import lostromos lostromos.yaml --kind Character
  bosun import lostromos --crd-name characters --crd-group stable.nicolerenee.io --templates templates/ --crd crd.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, unknown, err := readLostromosSettings(args, cmd.Flags())
			if err != nil {
				return err
			}
			config := ""
			if len(args) == 1 {
				config = args[0]
			}
			w, err := importLostromos(lo, o.PathsFrom, config, settings, unknown)
			if err != nil {
				return err
			}
			return writeImported(o, []*importedWatch{w}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&lo.Kind, "kind", "", "the kind of the CRD Lostromos watched (it named the plural, crd.name)")
	f.StringVar(&lo.CRD, "crd", "", "a file holding the CRD Lostromos watched, to read its kind from")
	for _, s := range lostromosSettings {
		usage := "as lostromos start's --" + s.flag + " (" + s.key + ")"
		switch s.def {
		case "false":
			f.Bool(s.flag, false, usage)
		default:
			f.String(s.flag, s.def, usage)
		}
	}
	return cmd
}

// readLostromosSettings reads the config file (if any) and the flags given, as Lostromos'
// viper did: a flag given wins over the file, the file over the default. Keys are
// case-insensitive, as viper made them. It also returns the file's keys that are not
// Lostromos settings, as "FILE:LINE: KEY".
func readLostromosSettings(args []string, flags *pflag.FlagSet) (map[string]lostromosValue, []string, error) {
	out := map[string]lostromosValue{}
	var unknown []string
	if len(args) == 1 {
		var err error
		if unknown, err = readLostromosConfig(args[0], out); err != nil {
			return nil, nil, err
		}
	}
	for _, s := range lostromosSettings {
		if f := flags.Lookup(s.flag); f != nil && f.Changed {
			out[s.key] = lostromosValue{value: f.Value.String(), at: "--" + s.flag}
		} else if _, ok := out[s.key]; !ok {
			out[s.key] = lostromosValue{value: s.def}
		}
	}
	return out, unknown, nil
}

// readLostromosConfig reads the settings of a Lostromos config file into out, and returns its
// keys that are not Lostromos settings as "FILE:LINE: KEY".
func readLostromosConfig(file string, out map[string]lostromosValue) ([]string, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml", ".json", "":
	default:
		return nil, fmt.Errorf("%s: only YAML and JSON Lostromos configs are read", file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, pathErr(file, err)
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, yamlFileError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	var (
		lost []string
		errs []error
	)
	var walk func(prefix string, n *yamlv3.Node)
	walk = func(prefix string, n *yamlv3.Node) {
		if n.Kind != yamlv3.MappingNode {
			errs = append(errs, fmt.Errorf("%s:%d: %swant a mapping", file, n.Line, strings.TrimSuffix(prefix, ".")+": "))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := prefix + k.Value
			setting := lostromosSetting(key)
			switch {
			case setting != "" && v.Kind == yamlv3.ScalarNode:
				out[setting] = lostromosValue{value: v.Value, at: fmt.Sprintf("%s:%d", file, v.Line)}
			case setting != "":
				errs = append(errs, fmt.Errorf("%s:%d: %s: want a single value", file, v.Line, setting))
			case v.Kind == yamlv3.MappingNode && lostromosSection(key):
				walk(key+".", v)
			default:
				lost = append(lost, fmt.Sprintf("%s:%d: %s", file, k.Line, key))
			}
		}
	}
	walk("", doc.Content[0])
	return lost, errors.Join(errs...)
}

// lostromosSetting returns the setting's key as Lostromos spelled it, or "".
func lostromosSetting(key string) string {
	for _, s := range lostromosSettings {
		if strings.EqualFold(s.key, key) {
			return s.key
		}
	}
	return ""
}

func lostromosSection(key string) bool {
	for _, s := range lostromosSettings {
		if section, _, ok := strings.Cut(s.key, "."); ok && strings.EqualFold(section, key) {
			return true
		}
	}
	return false
}

// importLostromos makes the watch of Lostromos' settings.
func importLostromos(o lostromosOptions, pathsFrom, config string, s map[string]lostromosValue, unknown []string) (*importedWatch, error) {
	// at is where a setting came from; a default, from Lostromos itself.
	at := func(key string) string {
		switch {
		case s[key].at != "":
			return s[key].at
		case config != "":
			return config
		}
		return "flags"
	}
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", at(key), key, fmt.Sprintf(format, args...)))
	}
	required := func(key string) string {
		if s[key].value == "" {
			fail(key, "missing (lostromos start required it: --%s, or %s in the config)", flagOf(key), key)
		}
		return s[key].value
	}
	plural, group, version := required("crd.name"), required("crd.group"), required("crd.version")
	from := "flags (Lostromos)"
	if config != "" {
		from = config + " (Lostromos)"
	}
	w := &importedWatch{name: plural, group: group, version: version, from: from}
	for _, u := range unknown {
		loc, key, _ := strings.Cut(u, ": ")
		w.loseKey(loc, key, "not a Lostromos setting, which ignored it")
	}
	kind := ""
	if plural != "" && group != "" {
		var err error
		if kind, err = lostromosKind(o, plural, group, version); err != nil {
			fail("crd.name", "%v", err)
		}
	}
	w.set(importedField{key: "name", value: w.name})
	w.set(importedField{key: "watch", value: gvkNode(group, version, kind)})
	if ns := s["crd.namespace"].value; ns != "" {
		w.set(importedField{key: "namespaces", value: []string{ns}, flow: true, line: "crd.namespace"})
	}
	base := pathsFrom
	if base == "" {
		base = "."
	}
	if chart := s["helm.chart"].value; chart != "" {
		if s["templates"].value != "" {
			w.loseKey(at("templates"), "templates", "Lostromos ignored it, as helm.chart is set")
		}
		lostromosChart(w, s, base, at, fail)
	} else {
		lostromosTemplates(w, s, base, at, fail)
	}
	if v := s["crd.filter"]; v.value != "" {
		w.loseKey(v.at, "crd.filter: "+v.value, "bosun selects owners by label (selector:), not by annotation: label the owners that carry the annotation and set selector:")
	}
	for _, l := range []struct{ key, why string }{
		{"nop", "Lostromos only printed what it would apply; bosun render prints it, bosun run applies"},
		{"k8s.config", "bosun run --kubeconfig"},
		{"server.address", "bosun run --metrics-addr (/metrics) and --health-addr (/healthz, /readyz)"},
		{"server.metricsEndpoint", "bosun serves /metrics on --metrics-addr"},
		{"server.statusEndpoint", "no /status: each owner's Ready condition and status.children say it"},
		{"logging.debug", "bosun run --log-level debug"},
		{"logging.pretty", "bosun run --log-format console (the default)"},
	} {
		if v := s[l.key]; v.set() && v.value != "false" {
			w.loseKey(v.at, l.key+": "+v.value, l.why)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// lostromosChart fills in Lostromos' Helm mode: a chart per owner, installed through Tiller.
func lostromosChart(w *importedWatch, s map[string]lostromosValue, base string, at func(string) string, fail func(string, string, ...any)) {
	path, err := existingPath(base, s["helm.chart"].value)
	if err != nil {
		fail("helm.chart", "%v (paths are read relative to %s; see --paths-from)", err, base)
	}
	w.set(importedField{key: "chart", value: path, path: true})
	w.set(importedField{key: "valuesFrom", value: "resource", line: "Lostromos' convention: .Values.resource.name, .namespace and .spec"})
	prefix := s["helm.releasePrefix"]
	shown := func(key string) string {
		if s[key].set() {
			return key + ": " + s[key].value
		}
		return key + ": " + s[key].value + " (Lostromos' default)"
	}
	w.loseKey(at("helm.namespace"), shown("helm.namespace"),
		"Lostromos installed every release in this namespace; bosun renders an owner's chart in the owner's namespace")
	w.loseKey(at("helm.releasePrefix"), shown("helm.releasePrefix"),
		fmt.Sprintf("Lostromos named an owner's release %s-OWNER; bosun names it OWNER, so Tiller's objects (release: %s-OWNER) are not taken over: delete the old releases once the owners are Ready (docs/migration.md)", prefix.value, prefix.value))
	for _, l := range []struct{ key, why string }{
		{"helm.tiller", "bosun renders charts itself: no Tiller"},
		{"helm.wait", "bosun does not wait: an owner's Ready condition says when its children are healthy"},
		{"helm.waitTimeout", "bosun does not wait: an owner's Ready condition says when its children are healthy"},
	} {
		if v := s[l.key]; v.set() {
			w.loseKey(v.at, l.key+": "+v.value, l.why)
		}
	}
}

// lostromosTemplates fills in Lostromos' template mode: the *.tmpl files of a directory,
// applied with kubectl.
func lostromosTemplates(w *importedWatch, s map[string]lostromosValue, base string, at func(string) string, fail func(string, string, ...any)) {
	given := s["templates"].value
	dir := given
	if dir == "" {
		fail("templates", "missing: without it or helm.chart Lostromos rendered nothing")
		return
	}
	dir, err := existingPath(base, dir)
	if err != nil {
		fail("templates", "%v (paths are read relative to %s; see --paths-from)", err, base)
		return
	}
	l, err := renderer.LostromosTemplates(dir)
	if err == nil {
		_, err = renderer.New(l.Files, renderer.Options{}) // as bosun run will parse them
	}
	if err != nil {
		fail("templates", "%v", err)
		return
	}
	head := "Lostromos executed " + filepath.Base(l.Entry) + ", the first *.tmpl file."
	if l.Calls != nil {
		head = "Lostromos executed " + filepath.Base(l.Entry) + ", which only calls these files: bosun renders each."
	}
	w.set(importedField{key: "templates", value: l.Files, path: true, head: head})
	for _, u := range l.Unused {
		w.note(at("templates"), fmt.Sprintf("%s: left out: Lostromos never rendered it (it executed only %s)", filepath.Join(given, filepath.Base(u)), filepath.Base(l.Entry)))
	}
	w.set(importedField{key: "children", value: map[string]any{"adopt": true}, flow: true,
		head: "Takes over the objects Lostromos applied with kubectl, which carry no owner's mark, without\n" +
			"re-creating them; set it to false once every owner is Ready (docs/migration.md)."})
}

func flagOf(key string) string {
	for _, s := range lostromosSettings {
		if s.key == key {
			return s.flag
		}
	}
	return ""
}

// lostromosKind returns the kind of the CRD Lostromos watched, from --kind or --crd.
func lostromosKind(o lostromosOptions, plural, group, version string) (string, error) {
	if o.CRD == "" {
		if o.Kind == "" {
			return "", fmt.Errorf("%q is the CRD's plural; a bosun watch names its kind: give --kind (e.g. --kind %s), or --crd with the CRD's manifest", plural, guessKind(plural))
		}
		return o.Kind, nil
	}
	kind, err := crdKind(o.CRD, plural, group, version)
	if err != nil {
		return "", err
	}
	if o.Kind != "" && o.Kind != kind {
		return "", fmt.Errorf("--kind %s, but %s says %s", o.Kind, o.CRD, kind)
	}
	return kind, nil
}

// guessKind is only an example for a message: "characters" → "Character".
func guessKind(plural string) string {
	s := strings.TrimSuffix(plural, "s")
	if s == "" {
		return "Kind"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// crdKind finds the CRD of group and plural in file (multi-document YAML; apiextensions v1 or
// v1beta1, as Lostromos' time wrote them) and returns its kind.
func crdKind(file, plural, group, version string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", pathErr(file, err)
	}
	defer f.Close()
	dec := yamlv3.NewDecoder(f)
	for {
		var crd struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Group    string `yaml:"group"`
				Version  string `yaml:"version"`
				Versions []struct {
					Name string `yaml:"name"`
				} `yaml:"versions"`
				Names struct {
					Kind   string `yaml:"kind"`
					Plural string `yaml:"plural"`
				} `yaml:"names"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&crd)
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s holds no CustomResourceDefinition of %s.%s", file, plural, group)
		}
		if err != nil {
			return "", yamlFileError(file, err)
		}
		if crd.Kind != "CustomResourceDefinition" || crd.Spec.Group != group || crd.Spec.Names.Plural != plural {
			continue
		}
		versions := []string{crd.Spec.Version}
		for _, v := range crd.Spec.Versions {
			versions = append(versions, v.Name)
		}
		for _, v := range versions {
			if v == version {
				return crd.Spec.Names.Kind, nil
			}
		}
		return "", fmt.Errorf("%s: the CRD %s.%s has no version %s (crd.version)", file, plural, group, version)
	}
}
