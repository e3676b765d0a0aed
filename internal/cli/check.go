package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/watcher"
)

func newCheckCommand() *cobra.Command {
	var path string
	var caps capabilities
	cmd := &cobra.Command{
		Use:   "check --config PATH",
		Short: "Validate watch configs and templates, and render their examples, without a cluster",
		Long: `Validate every watch config and parse its templates, as 'bosun run' does before it
contacts the cluster, then render the example owners each watch lists under examples: and
check the children against the watch's child policy. Prints one line per watch and example,
"ok" or "FAIL" with the problem, and exits 1 if anything failed. Suited to CI.

Offline, an example owner without a namespace is put into "default", and a kind that is not
built in is taken to be namespaced.`,
		Example: `  bosun check --config examples/site/watch.yaml
  bosun check -c /etc/bosun/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !runCheck(cmd.Context(), path, caps, cmd.OutOrStdout()) {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "watch config file, or a directory of them")
	capabilityFlags(cmd, &caps)
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// runCheck checks the configs at path and prints a line per watch and example to out; it
// reports whether everything passed.
func runCheck(ctx context.Context, path string, caps capabilities, out io.Writer) bool {
	watches, err := config.Load(path)
	if err != nil {
		fail(out, "", err)
		return false
	}
	passed := true
	for _, w := range watches {
		r, err := newSource(w, caps)
		if err != nil {
			fail(out, w.Name+": ", err)
			passed = false
			continue
		}
		examples := "no examples"
		if n := len(w.Examples); n > 0 {
			examples = plural(n, "example")
		}
		fmt.Fprintf(out, "ok    %s: %s (%s, %s)\n", w.Name, w.File, describeSource(r), examples)
		for _, file := range w.Examples {
			if !checkExample(ctx, w, r, file, out) {
				passed = false
			}
		}
	}
	return passed
}

// checkExample renders every owner of one example file and checks its children offline.
func checkExample(ctx context.Context, w *config.Watch, r source, file string, out io.Writer) bool {
	prefix := w.Name + ": "
	owners, err := readAllOwners(w, []string{file}, nil)
	if err != nil {
		fail(out, prefix, err)
		return false
	}
	objects := 0
	for _, o := range owners {
		defaultNamespace(o.Object, "")
		children, err := render(ctx, w, r, o.Object)
		if err == nil {
			_, err = planned(o.Object, children, watcher.ApplierPolicy(w.Children), false)
		}
		if err != nil {
			fail(out, prefix+o.Source+": ", err)
			return false
		}
		objects += len(children)
	}
	count := plural(objects, "object")
	if len(owners) > 1 {
		count = plural(len(owners), "owner") + ", " + count
	}
	fmt.Fprintf(out, "ok    %s%s (%s)\n", prefix, file, count)
	return true
}

// fail prints err, one "FAIL" line per line of it, each with the prefix.
func fail(out io.Writer, prefix string, err error) {
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(out, "FAIL  %s%s\n", prefix, line)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
