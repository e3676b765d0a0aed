package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffFailsWithExitCode2AndSaysWhatToCheck(t *testing.T) {
	unreachable := filepath.Join(t.TempDir(), "kubeconfig")
	// Port 1 on the loopback refuses connections at once.
	err := os.WriteFile(unreachable, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		args             []string
		prefix, contains string
	}{
		{
			name:     "an unreachable API server",
			args:     []string{"--kubeconfig", unreachable},
			prefix:   "bosun: cannot reach the API server at https://127.0.0.1:1: ",
			contains: "(check --kubeconfig and --context, or that the cluster is up)\n",
		},
		{
			name:     "a kubeconfig that does not exist",
			args:     []string{"--kubeconfig", "nope"},
			prefix:   "bosun: kubeconfig: ",
			contains: "(check --kubeconfig and --context, or set $KUBECONFIG)\n",
		},
		{
			name:     "a context the kubeconfig does not have",
			args:     []string{"--kubeconfig", unreachable, "--context", "staging"},
			prefix:   "bosun: kubeconfig: ",
			contains: `context "staging" does not exist`,
		},
		{
			name:     "a flag diff does not know",
			args:     []string{"--kubeconfig", unreachable, "--dry-run"},
			prefix:   "bosun: unknown flag: --dry-run\n",
			contains: "Run 'bosun diff --help' for usage.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"diff", "-c", siteWatch, "-f", siteOwner}, tt.args...)
			stdout, stderr, code := bosun(t, "", args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, tt.prefix) || !strings.Contains(stderr, tt.contains) {
				t.Errorf("bosun %v: exit %d, stdout %q, stderr %q; want exit 2 and stderr starting %q and containing %q",
					args, code, stdout, stderr, tt.prefix, tt.contains)
			}
		})
	}
}
