package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The docs are README.md and docs/*.md. This test keeps what they reference true: every
// relative link and its #anchor, every repository path in backticks, every `--flag` (a flag of
// some bosun command, or of the tools named in otherFlags) and every dotted watch config key
// (`children.adopt`) exists.

// otherFlags are flags the docs cite of other tools (go test, helm, kubectl, hack/ scripts).
var otherFlags = map[string]string{
	"--kube-version": "helm template", "--skip-tests": "helm template", "--show-managed-fields": "kubectl get",
	"--insecure-kubeconfig-exec": "Flux", "--update": "go test in internal/cli", "--api-versions": "helm template",
	"--clusters": "hack/local-cluster", "--workload-nodes": "hack/local-cluster", "--dir": "hack/local-cluster",
	"--no-sharded-list-and-watch": "hack/local-cluster", "--for": "kubectl wait", "--field-manager": "kubectl apply",
	"--server-side": "kubectl apply", "--force-conflicts": "kubectl apply", "--dry-run": "kubectl", "--set": "helm",
	"--values": "helm", "--namespace-create": "helm", "--create-namespace": "helm install", "--wait": "helm install",
	"--timeout": "kubectl wait", "--prune": "kubectl apply", "--selector": "kubectl", "--all": "kubectl delete",
	"--type": "kubectl patch", "--overwrite": "kubectl annotate", "--kubeconfig": "kubectl and bosun",
	"--context": "kubectl and bosun", "--output": "kubectl", "--unsafe-no-fsync": "etcd",
}

// objectFields are fields of owners and other objects the docs cite that read like config keys.
var objectFields = map[string]bool{"status.children": true, "status.conditions": true, "status.accessProviders": true,
	"status.observedGeneration": true}

func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	return append([]string{"../../README.md"}, files...)
}

// prose is the text of a Markdown file outside fenced code blocks.
func prose(text string) []string {
	var out []string
	code := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			code = !code
			continue
		}
		if !code {
			out = append(out, l)
		}
	}
	return out
}

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, l := range prose(text) {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		h = regexp.MustCompile(`[^\p{L}\p{N}\- _]`).ReplaceAllString(h, "")
		out[strings.ReplaceAll(h, " ", "-")] = true
	}
	return out
}

var (
	linkRe     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeRe     = regexp.MustCompile("`([^`]+)`")
	flagRe     = regexp.MustCompile(`(^|\s)(--[a-z][a-z0-9-]+\*?)`)
	repoPathRe = regexp.MustCompile(`^(examples|templates|hack|internal|watcher|applier|renderer|config|deploy|docs|e2e)/[A-Za-z0-9_./*<>-]*$`)
	keyRe      = regexp.MustCompile(`^(children|status|safety|rollout|lookup|clusters)\.[a-zA-Z]+$`)
)

func TestDocsLinksPathsFlagsAndKeysExist(t *testing.T) {
	flags := bosunFlags(NewRootCommand())
	keys := configKeys(t)
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(file, "../../")
		for n, l := range prose(string(b)) {
			at := fmt.Sprintf("%s (prose line %d)", name, n+1)
			for _, m := range linkRe.FindAllStringSubmatch(l, -1) {
				checkLink(t, at, file, m[1])
			}
			for _, m := range codeRe.FindAllStringSubmatch(l, -1) {
				code := m[1]
				for _, f := range flagRe.FindAllStringSubmatch(code, -1) {
					if !knownFlag(flags, f[2]) && otherFlags[f[2]] == "" {
						t.Errorf("%s: `%s` names %s, which no bosun command has (nor otherFlags)", at, code, f[2])
					}
				}
				p := strings.TrimRight(strings.Fields(code + " x")[0], ".,:")
				if repoPathRe.MatchString(p) && !strings.ContainsAny(p, "*<>") {
					if _, err := os.Stat(filepath.Join("../..", p)); err != nil {
						t.Errorf("%s: `%s` is not a file or directory of the repository", at, p)
					}
				}
				if keyRe.MatchString(code) && !keys[strings.ToLower(code)] && !objectFields[code] {
					t.Errorf("%s: `%s` is not a watch config key (config/doc.go lists them)", at, code)
				}
			}
		}
	}
}

func checkLink(t *testing.T, at, file, link string) {
	t.Helper()
	if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
		return
	}
	path, anchor, _ := strings.Cut(link, "#")
	target := file
	if path != "" {
		target = filepath.Join(filepath.Dir(file), path)
		if _, err := os.Stat(target); err != nil {
			t.Errorf("%s: link %s: %v", at, link, err)
			return
		}
	}
	if anchor == "" || !strings.HasSuffix(target, ".md") {
		return
	}
	b, err := os.ReadFile(target)
	if err != nil {
		t.Errorf("%s: link %s: %v", at, link, err)
		return
	}
	if !anchors(string(b))[anchor] {
		t.Errorf("%s: link %s: %s has no heading #%s", at, link, filepath.Base(target), anchor)
	}
}

// knownFlag reports whether a bosun command has the flag, or, for "--prefix-*", one that starts
// with the prefix.
func knownFlag(flags map[string]bool, f string) bool {
	if p, ok := strings.CutSuffix(f, "*"); ok {
		for have := range flags {
			if strings.HasPrefix(have, p) {
				return true
			}
		}
		return false
	}
	return flags[f]
}

// bosunFlags are the flags of every bosun command.
func bosunFlags(root *cobra.Command) map[string]bool {
	out := map[string]bool{"--help": true, "--version": true}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { out["--"+f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// configKeys are the dotted keys of the watch config, lower-cased, as config/doc.go's
// reference lists them.
func configKeys(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../config/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	section := ""
	line := regexp.MustCompile(`^//\t(\s*)([a-zA-Z]+):`)
	for _, l := range strings.Split(string(b), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] == "" {
			section = m[2]
			continue
		}
		keys[strings.ToLower(section+"."+m[2])] = true
	}
	if !keys["children.adopt"] {
		t.Fatalf("config/doc.go's key reference not found (children.adopt missing): %v", keys)
	}
	return keys
}
