package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

// lockedBuffer is written by a command running in another goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestGetAndExplainShowTheOwnersAsBosunLeftThem(t *testing.T) {
	installCRD(t, "testdata/probe/crd.yaml", "probes.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "get")
	config := probeWatch(t, "")
	b := startBosun(t, config, ns)
	for _, p := range []struct{ name, tier, spec string }{{"good", "front", "{}"}, {"bad", "back", "{mode: fail}"}} {
		create(t, probeGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Probe\nmetadata: {name: %s, namespace: %s, labels: {tier: %s}}\nspec: %s\n", p.name, ns, p.tier, p.spec))
	}
	waitCondition(t, probeGVR, ns, "good", "Ready", "True", watcher.ReasonReady)
	waitCondition(t, probeGVR, ns, "bad", "Ready", "False", watcher.ReasonRenderFailed)
	waitEvent(t, ns, "bad", watcher.ReasonRenderFailed)

	run := func(ctx context.Context, stdout *lockedBuffer, args ...string) (stderr string, code int) {
		var errOut bytes.Buffer
		code = cli.Execute(ctx, append(args, "--kubeconfig", env.Cluster.KubeconfigPath()), nil, stdout, &errOut)
		return errOut.String(), code
	}
	bosunCmd := func(t *testing.T, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		var out lockedBuffer
		stderr, code = run(context.Background(), &out, args...)
		return out.String(), stderr, code
	}
	line := func(t *testing.T, out, pattern string) {
		t.Helper()
		if !regexp.MustCompile(`(?m)` + pattern).MatchString(out) {
			t.Errorf("no line matching %q in:\n%s", pattern, out)
		}
	}

	t.Run("get lists both owners and exits 1, as one is not Ready", func(t *testing.T) {
		stdout, stderr, code := bosunCmd(t, "get", "-c", config, "-n", ns)
		if code != 1 || stderr != "" {
			t.Errorf("exit %d, stderr %q; want 1 and nothing", code, stderr)
		}
		line(t, stdout, `^WATCH +NAME +READY +REASON +AGE +CHILDREN +VERSION +MESSAGE$`)
		// Its first render failed: no children, no template version recorded.
		line(t, stdout, `^watch +bad +False +RenderFailed +\S+ +- +- +Probe/`+ns+`/bad: render: .*spec.mode is fail`)
		line(t, stdout, `^watch +good +True +Ready +\S+ +1/1 +[0-9a-f]{8} +all children are ready$`)
	})

	t.Run("get --selector narrows to the Ready owner and exits 0", func(t *testing.T) {
		stdout, stderr, code := bosunCmd(t, "get", "-c", config, "-n", ns, "-l", "tier=front")
		if code != 0 || stderr != "" || strings.Contains(stdout, "bad") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
		line(t, stdout, `^watch +good +True `)
	})

	t.Run("get -o json is a list of the owners for scripts", func(t *testing.T) {
		stdout, _, code := bosunCmd(t, "get", "-c", config, "-n", ns, "-o", "json")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		var rows []struct {
			Watch, Namespace, Name, Ready, Reason, Message, Version, TemplateHash, CurrentHash string
			Children                                                                           struct{ Ready, Total int }
			PendingRollout                                                                     bool
		}
		if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
			t.Fatalf("%v:\n%s", err, stdout)
		}
		if len(rows) != 2 {
			t.Fatalf("want 2 owners:\n%s", stdout)
		}
		bad, good := rows[0], rows[1]
		if bad.Name != "bad" || bad.Ready != "False" || bad.Reason != watcher.ReasonRenderFailed || !strings.Contains(bad.Message, "spec.mode is fail") {
			t.Errorf("bad = %+v", bad)
		}
		if good.Name != "good" || good.Ready != "True" || good.Children.Ready != 1 || good.Children.Total != 1 ||
			good.TemplateHash == "" || good.TemplateHash != good.CurrentHash || good.PendingRollout || good.Namespace != ns {
			t.Errorf("good = %+v", good)
		}
	})

	t.Run("explain says why an owner fails, with its Event, and exits 1", func(t *testing.T) {
		stdout, stderr, code := bosunCmd(t, "explain", "probe/"+ns+"/bad", "-c", config)
		if code != 1 || stderr != "" {
			t.Errorf("exit %d, stderr %q; want 1 and nothing", code, stderr)
		}
		line(t, stdout, `^Probe/`+ns+`/bad$`)
		line(t, stdout, `^Ready: +False, reason RenderFailed$`)
		line(t, stdout, `^Why: +a template failed for this owner`)
		// bosun takes an owner (its finalizer, template version) once it rendered.
		line(t, stdout, `^Finalizer: +bosun.dev/cleanup absent`)
		line(t, stdout, `^Version: +- \(never rendered\)$`)
		line(t, stdout, `^  Ready +False +RenderFailed +\S+ \(\S+ ago\) +Probe/`+ns+`/bad: render: .*spec.mode is fail`)
		// The Event is found by the owner's UID with a field selector the API server serves.
		line(t, stdout, `^  Warning RenderFailed \(Reconcile\), .*spec.mode is fail`)
		line(t, stdout, `^  \S+ +Warning +RenderFailed +Reconcile +\d+ +bosun +Probe/`+ns+`/bad: render:`)
	})

	t.Run("explain shows a Ready owner's child healthy and its templates current, and exits 0", func(t *testing.T) {
		stdout, stderr, code := bosunCmd(t, "explain", "Probe.e2e.bosun.dev/good", "-n", ns, "-c", config, "-o", "json")
		if code != 0 || stderr != "" {
			t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
		}
		var x struct {
			Watch    string
			Ready    string
			Version  struct{ PendingRollout bool }
			Children []struct{ Kind, Name, Health string }
		}
		if err := json.Unmarshal([]byte(stdout), &x); err != nil {
			t.Fatalf("%v:\n%s", err, stdout)
		}
		if x.Ready != "True" || x.Version.PendingRollout || len(x.Children) != 1 || x.Children[0].Name != "good-cm" || x.Children[0].Health != "Current" {
			t.Errorf("explain -o json:\n%s", stdout)
		}
	})

	t.Run("explain of an owner that does not exist exits 2", func(t *testing.T) {
		_, stderr, code := bosunCmd(t, "explain", "probe/"+ns+"/nope")
		if code != 2 || stderr != "bosun: Probe/"+ns+"/nope: not found\n" {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("get --follow prints the owner's new line when it becomes Ready", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out lockedBuffer
		done := make(chan int)
		go func() {
			_, code := run(ctx, &out, "get", "-c", config, "-n", ns, "--follow")
			done <- code
		}()
		testenv.Eventually(t, waitTimeout, func() error {
			if strings.Count(out.String(), "\n") < 3 {
				return fmt.Errorf("no table yet:\n%s", out.String())
			}
			return nil
		})
		mergePatch(t, probeGVR, ns, "bad", `{"spec":{"mode":"ok"}}`)
		testenv.Eventually(t, waitTimeout, func() error {
			if !regexp.MustCompile(`(?m)^watch +bad +True +Ready `).MatchString(out.String()) {
				return fmt.Errorf("bad not printed Ready yet:\n%s", out.String())
			}
			return nil
		})
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("get --follow exited %d once every owner was Ready, want 0:\n%s", code, out.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("get --follow did not stop with its context")
		}
	})

	t.Run("without bosun running, get still reads the owners' state", func(t *testing.T) {
		b.stop()
		stdout, stderr, code := bosunCmd(t, "get", "-c", config, "-n", ns)
		if code != 0 || stderr != "" {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
		line(t, stdout, `^watch +bad +True +Ready +\S+ +1/1 `)
	})
}
