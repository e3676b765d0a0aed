package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
)

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// readmeMetrics returns the metric names the metrics table of the docs (docs/metrics.md)
// documents.
func readmeMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Metrics\n")
	if !ok {
		t.Fatal("docs/metrics.md has no Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)`").FindAllStringSubmatch(section, -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("README documents only %d metrics: %v", len(names), names)
	}
	return names
}

func TestMetricsAndProbesServeWhatTheREADMESays(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "metrics")
	// Port 0: bosun binds a free port itself and logs it. A port picked here and closed
	// again for bosun to bind later could be taken by another process in between.
	core, logs := observer.New(zap.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, cli.RunOptions{
			ConfigPath:  widgetWatch(t, "testdata/widget/templates-v1"),
			Namespace:   ns,
			RESTConfig:  env.RESTConfig(),
			MetricsAddr: "127.0.0.1:0",
			HealthAddr:  "127.0.0.1:0",
			Log:         zap.New(core),
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("bosun did not stop")
		}
	})
	metricsAddr, healthAddr := servingAddr(t, logs, done, "metrics"), servingAddr(t, logs, done, "health")
	create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: w, namespace: %s}\n", ns))
	waitObject(t, configMapGVR, ns, "w-config", nil)

	testenv.Eventually(t, waitTimeout, func() error {
		if code, body, err := httpGet("http://" + healthAddr + "/readyz"); err != nil || code != 200 {
			return fmt.Errorf("/readyz: %d %s %v", code, body, err)
		}
		if code, _, err := httpGet("http://" + healthAddr + "/healthz"); err != nil || code != 200 {
			return fmt.Errorf("/healthz: %d %v", code, err)
		}
		return nil
	})
	testenv.Eventually(t, waitTimeout, func() error {
		_, body, err := httpGet("http://" + metricsAddr + "/metrics")
		if err != nil {
			return err
		}
		var missing []string
		for _, name := range readmeMetrics(t) {
			if !regexp.MustCompile("(?m)^" + name + `(_bucket|_count|_sum)?(\{| )`).MatchString(body) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("metrics documented in the README but not served: %v", missing)
		}
		if !strings.Contains(body, `bosun_child_actions_total{action="created",cluster="local",kind="ConfigMap",watch="watch"} 1`) {
			return fmt.Errorf("no created ConfigMap counted")
		}
		return nil
	})
}

// servingAddr waits for the "serving <name>" line of the run and returns the address it
// names. It fails at once if the run returned (a port it could not bind, say).
func servingAddr(t *testing.T, logs *observer.ObservedLogs, done chan error, name string) string {
	t.Helper()
	var addr string
	testenv.Eventually(t, waitTimeout, func() error {
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for it
			t.Fatalf("bosun run returned before serving %s: %v", name, err)
		default:
		}
		for _, e := range logs.FilterMessage("serving " + name).All() {
			if addr, _ = e.ContextMap()["addr"].(string); addr != "" {
				return nil
			}
		}
		return fmt.Errorf("bosun has not logged \"serving %s\" with its address yet", name)
	})
	return addr
}

func TestGrafanaDashboardUsesDocumentedMetrics(t *testing.T) {
	b, err := os.ReadFile("../examples/grafana/bosun-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{"process_resident_memory_bytes": true}
	for _, n := range readmeMetrics(t) {
		documented[n] = true
	}
	used := regexp.MustCompile(`\b(bosun|workqueue|rest_client|process)_[a-z_]+`).FindAllString(string(b), -1)
	if len(used) == 0 {
		t.Fatal("the dashboard uses no metrics")
	}
	for _, name := range used {
		if base := strings.TrimSuffix(name, "_bucket"); !documented[base] {
			t.Errorf("the dashboard uses %s, which the README does not document", name)
		}
	}
}
