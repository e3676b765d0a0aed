package watcher

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"k8s.io/client-go/tools/cache"
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
		c.mu.RLock()
		n := c.ownerCount()
		c.mu.RUnlock()
		ch <- prometheus.MustNewConstMetric(ownersDesc, prometheus.GaugeValue, float64(n), c.watch.Name)
		for state, n := range c.reports.byState() {
			ch <- prometheus.MustNewConstMetric(statesDesc, prometheus.GaugeValue, float64(n), c.watch.Name, state)
		}
	}
}

// progressInterval is how often the initial sync reports its progress.
const progressInterval = 10 * time.Second

// initialSync tracks which owners were reconciled at least once since the start, to report
// progress ("initial sync: 3100/5000 owners") until every owner present at start is done.
type initialSync struct {
	start   time.Time
	total   int
	pending map[cache.ObjectName]bool
}

// reportProgress logs the initial sync's progress every progressInterval until it is done.
func (c *controller) reportProgress(stop <-chan struct{}) {
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		if done, _, total, took := c.syncProgress(); done {
			c.log.Info("initial sync done", zap.Int("owners", total), zap.Duration("duration", took))
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if done, left, total, _ := c.syncProgress(); !done {
			c.log.Info("initial sync", zap.String("progress", progressText(total-left, total)), zap.Int("owners", total))
		}
	}
}

func progressText(done, total int) string {
	return thousands(done) + "/" + thousands(total) + " owners"
}

// thousands formats n with thousands separators, as people read counts: 3,100.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// syncProgress says whether the initial sync is done, and how far it is.
func (c *controller) syncProgress() (done bool, left, total int, took time.Duration) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	p := c.progress
	return len(p.pending) == 0, len(p.pending), p.total, time.Since(p.start)
}

// reconciled marks an owner as reconciled once (whatever the result) for the initial sync.
func (c *controller) reconciled(key cache.ObjectName) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	delete(c.progress.pending, key)
}

// startProgress records the owners present when the caches synced.
func (c *controller) startProgress() {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	c.progress = initialSync{start: time.Now(), pending: map[cache.ObjectName]bool{}}
	for _, inf := range c.informers {
		for _, k := range inf.GetIndexer().ListKeys() {
			if name, err := cache.ParseObjectName(k); err == nil {
				c.progress.pending[name] = true
			}
		}
	}
	c.progress.total = len(c.progress.pending)
}
