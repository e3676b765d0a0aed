package metrics

import (
	"net/http"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors of one bosun run.
type Metrics struct {
	Registry *prometheus.Registry

	// Reconciles counts reconciles by watch, result (success, error, requeue) and trigger.
	Reconciles *prometheus.CounterVec
	// ReconcileDuration observes whole reconciles by watch.
	ReconcileDuration *prometheus.HistogramVec
	// RenderDuration observes template rendering by watch.
	RenderDuration *prometheus.HistogramVec
	// ApplyDuration observes the apply and prune of one owner's children by watch.
	ApplyDuration *prometheus.HistogramVec
	// ChildActions counts what happened to children by watch, kind and action (created,
	// configured, unchanged, skipped, pruned, deleted, recreated).
	ChildActions *prometheus.CounterVec
	// Leader is 1 while this replica leads (or when leader election is off).
	Leader prometheus.Gauge
	// ShardSlots is how many of the 32 slots of the owner hash space this replica works on
	// (--sharding); ShardMembers how many replicas it sees live.
	ShardSlots   prometheus.Gauge
	ShardMembers prometheus.Gauge
	// PausedOwners is the number of owners paused with the bosun.dev/paused annotation, by
	// watch.
	PausedOwners *prometheus.GaugeVec
	// ClusterUp is 1 while a workload cluster in use answers and 0 while it does not, by
	// cluster (the clusters configured: bounded).
	ClusterUp *prometheus.GaugeVec
}

// New makes a Registry with bosun's metrics, the Go and process collectors, build info,
// and client-go's work queue and REST client metrics.
func New(version, commit string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bosun_reconciles_total", Help: "Reconciles of owners by watch, result (success, error, requeue) and trigger (owner, rollout, child, resync, requeue, retry).",
		}, []string{"watch", "result", "trigger"}),
		ReconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bosun_reconcile_duration_seconds", Help: "Duration of one owner's reconcile, by watch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"watch"}),
		RenderDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bosun_render_duration_seconds", Help: "Duration of rendering one owner's templates, by watch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"watch"}),
		ApplyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bosun_apply_duration_seconds", Help: "Duration of applying and pruning one owner's children, by watch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"watch"}),
		ChildActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bosun_child_actions_total", Help: "What happened to children, by watch, cluster (local: bosun's own), kind and action.",
		}, []string{"watch", "cluster", "kind", "action"}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bosun_leader", Help: "1 while this replica leads (always 1 without leader election).",
		}),
		ShardSlots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bosun_shard_slots", Help: "Slots of the owner hash space (of 32) this replica works on, with --sharding.",
		}),
		ShardMembers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bosun_shard_members", Help: "Live replicas this replica sees, with --sharding.",
		}),
		PausedOwners: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bosun_paused_owners", Help: "Owners whose reconciles are paused (bosun.dev/paused), by watch.",
		}, []string{"watch"}),
		ClusterUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bosun_cluster_up", Help: "1 while a workload cluster that children go to answers, 0 while it does not, by cluster.",
		}, []string{"cluster"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bosun_build_info", Help: "Build information; the value is 1.",
	}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(version, commit, runtime.Version()).Set(1)
	reg.MustRegister(m.Reconciles, m.ReconcileDuration, m.RenderDuration, m.ApplyDuration, m.ChildActions, m.Leader, m.ShardSlots, m.ShardMembers, m.PausedOwners, m.ClusterUp, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerClientGo(reg)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
