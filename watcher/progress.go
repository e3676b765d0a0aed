package watcher

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/tools/cache"
)

// progressInterval is how often the initial sync reports its progress.
const progressInterval = 10 * time.Second

// initialSync tracks which owners were reconciled at least once since the start, to report
// progress ("initial sync: 3100/5000 owners") until every owner present at start is done.
type initialSync struct {
	mu      sync.Mutex
	start   time.Time
	total   int
	pending map[cache.ObjectName]bool
}

// begin records the owners present when the caches synced.
func (p *initialSync) begin(keys []cache.ObjectName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start, p.pending = time.Now(), map[cache.ObjectName]bool{}
	for _, k := range keys {
		p.pending[k] = true
	}
	p.total = len(p.pending)
}

// reconciled marks an owner as reconciled once (whatever the result).
func (p *initialSync) reconciled(key cache.ObjectName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, key)
}

// state says whether the initial sync is done, and how far it is.
func (p *initialSync) state() (done bool, left, total int, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) == 0, len(p.pending), p.total, time.Since(p.start)
}

// reportProgress logs the initial sync's progress every progressInterval until it is done.
func (c *controller) reportProgress(stop <-chan struct{}) {
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		if done, _, total, took := c.progress.state(); done {
			c.log.Info("initial sync done", zap.Int("owners", total), zap.Duration("duration", took))
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if done, left, total, _ := c.progress.state(); !done {
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

// startProgress records the owners present when the caches synced; c.mu is held.
func (c *controller) startProgress() {
	var keys []cache.ObjectName
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, k := range idx.ListKeys() {
			if name, err := cache.ParseObjectName(k); err == nil {
				keys = append(keys, name)
			}
		}
	})
	c.progress.begin(keys)
}
