package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// importEnv gives the environment variables helm-operator expanded in overrideValues: those of
// its own Deployment, which import knows only from --env, or with --expand-env from its shell.
type importEnv struct {
	given map[string]string
	shell bool
}

// parseImportEnv reads --env NAME=VALUE flags.
func parseImportEnv(flags []string, shell bool) (importEnv, error) {
	e := importEnv{given: map[string]string{}, shell: shell}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return e, fmt.Errorf("--env %q: want NAME=VALUE", f)
		}
		e.given[name] = value
	}
	return e, nil
}

func (e importEnv) lookup(name string) (string, bool) {
	if v, ok := e.given[name]; ok {
		return v, true
	}
	if e.shell {
		return os.LookupEnv(name)
	}
	return "", false
}

// expand replaces $NAME and ${NAME} as os.ExpandEnv does, but fails on a variable it is not
// given instead of making it empty, as helm-operator did: an override silently emptied would
// win over every owner's value.
func (e importEnv) expand(s string) (string, error) {
	var missing []string
	out := os.Expand(s, func(name string) string {
		v, ok := e.lookup(name)
		if !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) == 0 {
		return out, nil
	}
	flags := make([]string, len(missing))
	for i, name := range missing {
		flags[i] = "--env " + name + "=VALUE"
	}
	hint := ", or --expand-env to take it from this shell"
	if e.shell {
		hint = " (this shell has none)"
	}
	return "", fmt.Errorf("%q names the environment variable %s, which helm-operator took from its own environment at start; bosun expands none: give its value from the operator's Deployment with %s%s",
		s, strings.Join(missing, ", "), strings.Join(flags, " "), hint)
}

// expandOverride does to an overrideValues value what helm-operator did when it started: expand
// the environment variables, then execute the result as a template with sprig's functions
// (helm-operator had slim-sprig's, a subset), whose env and expandenv read the same variables.
func (e importEnv) expandOverride(value string) (string, error) {
	expanded, err := e.expand(value)
	if err != nil || !strings.Contains(expanded, "{{") {
		return expanded, err
	}
	funcs := sprig.TxtFuncMap()
	funcs["env"] = func(name string) (string, error) { return e.expand("${" + name + "}") }
	funcs["expandenv"] = e.expand
	t, err := template.New("overrideValues").Funcs(funcs).Option("missingkey=error").Parse(expanded)
	if err != nil {
		return "", fmt.Errorf("%q: %w", expanded, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("%q: %w", expanded, err)
	}
	return b.String(), nil
}
