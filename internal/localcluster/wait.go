package localcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

const pollInterval = 100 * time.Millisecond

// waitFor polls check until it returns nil. It gives up when p exits (with the end of p's
// log, which says why) or when ctx ends (with check's last error).
func waitFor(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			return p.exitError()
		}
		select {
		case <-ctx.Done():
			tail := ""
			if p != nil {
				tail = fmt.Sprintf("; last lines of %s:\n%s", p.logPath, p.logTail(20))
			}
			return fmt.Errorf("%s: not ready: %w (last check: %v)%s", what, ctx.Err(), err, tail)
		case <-t.C:
		}
	}
}

// httpOK returns a check that GETs url and wants 200 with a body that ok accepts.
func httpOK(client *http.Client, url string, ok func(body string) bool) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode != http.StatusOK || !ok(string(b)) {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
		}
		return nil
	}
}

func anyBody(string) bool { return true }

// insecureClient talks to the health ports of kube-controller-manager and kube-scheduler,
// which serve a self-signed certificate; /healthz needs no credentials.
func insecureClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health check
		DisableKeepAlives: true,
	}}
}

func plainClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}
