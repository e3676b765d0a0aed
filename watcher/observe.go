package watcher

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	ownersDesc = prometheus.NewDesc("bosun_owners", "Owners in the watch's cache.", []string{"watch"}, nil)
	statesDesc = prometheus.NewDesc("bosun_owner_states",
		"Owners by the state last reported on them: Ready, Progressing, or the reason of a failure.", []string{"watch", "state"}, nil)
)

// ownerCollector reports every watch's owners and their states from what the controllers
// know, at scrape time, so nothing is counted twice or forgotten.
type ownerCollector struct{ m *Manager }

func (o ownerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ownersDesc
	ch <- statesDesc
}

func (o ownerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range o.m.controllers {
		n := c.ownerCount()
		ch <- prometheus.MustNewConstMetric(ownersDesc, prometheus.GaugeValue, float64(n), c.watch.Name)
		for state, n := range c.reports.byState() {
			ch <- prometheus.MustNewConstMetric(statesDesc, prometheus.GaugeValue, float64(n), c.watch.Name, state)
		}
	}
}
