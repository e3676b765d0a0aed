package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/bosun-dev/bosun/internal/metrics"
)

// serve runs an HTTP server on addr until ctx is done; an empty addr serves nothing. It
// returns once listening, so a port that is taken fails the start instead of going unnoticed.
func serve(ctx context.Context, name, addr string, h http.Handler, log *zap.Logger) (stop func(), err error) {
	if addr == "" || addr == "0" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s-addr %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" server failed", zap.Error(err))
		}
	}()
	log.Info("serving "+name, zap.String("addr", ln.Addr().String()))
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// healthHandler serves /healthz (the process runs) and /readyz (ready reports nil: the
// caches are synced — on a standby too, so that it can take over at once).
func healthHandler(ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// metricsHandler serves /metrics, and the pprof profiles when profiling is on.
func metricsHandler(m *metrics.Metrics, profiling bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	if profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// gcPercent is bosun's default GOGC. Its live heap is small and steady (informer caches) while
// reconciles allocate briskly; the default of 100 lets the heap grow to twice the live data,
// which is most of bosun's memory. 50 trades a little CPU for a third less peak memory.
const gcPercent = 50

// tuneGC applies gcPercent unless the user set GOGC, and, in a container with a memory limit,
// a soft memory limit of 90% of it unless the user set GOMEMLIMIT: near the limit the garbage
// collector works harder instead of letting the heap's headroom get bosun OOM-killed.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if limit, ok := cgroupMemoryLimit(cgroupMemoryFiles); ok {
			debug.SetMemoryLimit(limit / 10 * 9)
		}
	}
}

// cgroupMemoryFiles hold the memory limit of the process's cgroup: v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// cgroupMemoryLimit reads the first of files that holds a limit. "max" (v2) and v1's
// near-2^63 "unlimited" are no limit.
func cgroupMemoryLimit(files []string) (int64, bool) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<62 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}
