package cli

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Client-side rate limits when the API server does not protect itself with API Priority and
// Fairness (APF); with APF bosun leaves the pacing to the server, as kubectl does.
const (
	fallbackQPS   = 50
	fallbackBurst = 100
)

// tuneRateLimit sets cfg's client-side rate limit: the user's --kube-api-qps/--kube-api-burst
// when given, else none when the API server runs APF, else a conservative default. It also
// tells whether the server is reachable at all, with a message that says what to check.
func tuneRateLimit(cfg *rest.Config, qps float32, burst int) error {
	probe := rest.CopyConfig(cfg)
	var apf atomic.Bool
	probe.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err == nil && resp.Header.Get("X-Kubernetes-PF-PriorityLevel-UID") != "" {
				apf.Store(true)
			}
			return resp, err
		})
	})
	dc, err := discovery.NewDiscoveryClientForConfig(probe)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	if _, err := dc.ServerVersion(); err != nil {
		return fmt.Errorf("cannot reach the API server at %s: %w (check --kubeconfig/--context, or that the cluster is up)", cfg.Host, err)
	}
	switch {
	case qps != 0:
		cfg.QPS, cfg.Burst = qps, burst
	case apf.Load():
		cfg.QPS, cfg.Burst = -1, 0 // no client-side limiter: APF queues and sheds load fairly
	default:
		cfg.QPS, cfg.Burst = fallbackQPS, fallbackBurst
	}
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
