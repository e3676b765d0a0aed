package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat; it is 100 on every
// Linux platform Go supports.
const clockTicks = 100

// procUsage is the CPU time the kernel accounted to an exited process.
type procUsage struct {
	CPUSeconds float64
}

// usageOf is the CPU time the kernel accounted to the exited process.
func usageOf(ps *os.ProcessState) procUsage {
	return procUsage{CPUSeconds: (ps.UserTime() + ps.SystemTime()).Seconds()}
}

// procSample is one reading of /proc/<pid>.
type procSample struct {
	RSSKiB, HWMKiB int64
	// AnonKiB and FileKiB split the resident set: the process's own memory (heap, stacks)
	// and the pages of files it maps — the binary's code and data, shared and reclaimable.
	AnonKiB, FileKiB int64
	CPUSeconds       float64
}

// readProc reads the resident set (VmRSS), its peak (VmHWM) and utime+stime of pid.
func readProc(pid int) (procSample, error) {
	var s procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			s.RSSKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			s.HWMKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "RssAnon:":
			s.AnonKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "RssFile:":
			s.FileKiB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name may contain spaces; the fields after it are fixed: state is the
	// first, utime the 12th and stime the 13th.
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat)[i+1:])
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields after the command", pid, len(f))
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	s.CPUSeconds = (ut + st) / clockTicks
	return s, nil
}

// resetPeak sets VmHWM back to the current RSS, so each phase reports its own peak.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// sampler reads bosun's /proc every second for the progress lines and the RSS curve.
type sampler struct {
	mu      sync.Mutex
	last    procSample
	maxRSS  int64
	maxAnon int64 // since the last takeMaxAnon
	samples []rssPoint
}

type rssPoint struct {
	T      float64 `json:"t"`
	RSSMiB float64 `json:"rssMiB"`
}

func (s *sampler) run(p *bosunProc, begin time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if cur, err := readProc(p.pid); err == nil {
			s.mu.Lock()
			s.last = cur
			s.maxRSS = max(s.maxRSS, cur.RSSKiB)
			s.maxAnon = max(s.maxAnon, cur.AnonKiB)
			if len(s.samples) == 0 || time.Since(begin).Seconds()-s.samples[len(s.samples)-1].T >= 5 {
				s.samples = append(s.samples, rssPoint{T: round(since(begin), 1), RSSMiB: mib(cur.RSSKiB)})
			}
			s.mu.Unlock()
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// takeMaxAnon returns the highest anonymous RSS sampled since the last call (and cur's).
func (s *sampler) takeMaxAnon(cur procSample) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := max(s.maxAnon, cur.AnonKiB)
	s.maxAnon = 0
	return m
}

func (s *sampler) current() procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func mib(kib int64) float64 { return round(float64(kib)/1024, 1) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// Requests are the requests one client sent in a phase, as the proxy counted them.
type Requests struct {
	Total int `json:"total"`
	// Writes are the writes of anything but Leases: owners, their status, children, Events.
	Writes  int `json:"writes"`
	Reads   int `json:"reads"`
	Watches int `json:"watches"`
	// LeaseWrites are the writes of Leases (with --sharding: membership renewals and the
	// shard map), which Writes leaves out, so that "no writes" stays about owners and
	// children; LeaseFailed counts their answers other than 2xx (a compare-and-swap of the
	// shard map that lost is a 409), which Failed leaves out.
	LeaseWrites int            `json:"leaseWrites,omitempty"`
	LeaseFailed map[string]int `json:"leaseFailed,omitempty"`
	// ByVerb counts by "VERB resource", e.g. "APPLY configmaps".
	ByVerb map[string]int `json:"byVerb,omitempty"`
	// Failed counts answers other than 2xx by "code VERB resource", e.g. "409 PATCH sites",
	// except reads that found nothing.
	Failed map[string]int `json:"failed,omitempty"`
	// NotFound counts reads answered 404, e.g. the ownership check before a child's first
	// apply; they are expected.
	NotFound map[string]int `json:"notFound,omitempty"`
}

func diffRequests(before, after map[reqKey]int) Requests {
	r := Requests{ByVerb: map[string]int{}, Failed: map[string]int{}, NotFound: map[string]int{}}
	for k, v := range after {
		d := v - before[k]
		switch {
		case d == 0:
			continue
		case k.Code == 404 && isRead(k.Verb):
			r.NotFound[strings.TrimSpace(k.Verb+" "+k.Resource)] += d
			continue
		case k.Code != 0 && k.Resource == leases:
			if r.LeaseFailed == nil {
				r.LeaseFailed = map[string]int{}
			}
			r.LeaseFailed[fmt.Sprintf("%d %s %s", k.Code, k.Verb, k.Resource)] += d
			continue
		case k.Code != 0:
			r.Failed[fmt.Sprintf("%d %s %s", k.Code, k.Verb, k.Resource)] += d
			continue
		}
		r.Total += d
		switch {
		case isWrite(k.Verb) && k.Resource == leases:
			r.LeaseWrites += d
		case isWrite(k.Verb):
			r.Writes += d
		case isRead(k.Verb):
			r.Reads += d
		case k.Verb == "WATCH":
			r.Watches += d
		}
		r.ByVerb[strings.TrimSpace(k.Verb+" "+k.Resource)] += d
	}
	return r
}

// leases is the resource of the Leases --sharding writes.
const leases = "leases"

// childWrites counts the writes of children: every write but those of the owners (Sites and
// their status), Events and Leases.
func (r Requests) childWrites() int {
	n := 0
	for k, v := range r.ByVerb {
		verb, res, _ := strings.Cut(k, " ")
		res, _, _ = strings.Cut(res, "/")
		if isWrite(verb) && res != siteGVR.Resource && res != "events" && res != leases {
			n += v
		}
	}
	return n
}

// conflicts is how many answers were 409 Conflict.
func (r Requests) conflicts() int {
	n := 0
	for k, v := range r.Failed {
		if strings.HasPrefix(k, "409 ") {
			n += v
		}
	}
	return n
}

func (r Requests) String() string {
	s := fmt.Sprintf("%d writes, %d reads, %d watches", r.Writes, r.Reads, r.Watches)
	if r.LeaseWrites > 0 {
		s += fmt.Sprintf(", %d Lease writes", r.LeaseWrites)
	}
	if n := len(r.Failed); n > 0 {
		failed := 0
		for _, v := range r.Failed {
			failed += v
		}
		s += fmt.Sprintf(", %d failed (%d conflicts)", failed, r.conflicts())
	}
	return s
}

// diffCounters keeps the counters that changed between two scrapes of bosun's metrics.
func diffCounters(before, after map[string]float64) map[string]float64 {
	if after == nil {
		return nil
	}
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Latencies summarises a set of durations.
type Latencies struct {
	Count  int     `json:"count"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

func summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 1) }
	return Latencies{
		Count:  len(sorted),
		P50Ms:  ms(quantile(sorted, 0.50)),
		P90Ms:  ms(quantile(sorted, 0.90)),
		P99Ms:  ms(quantile(sorted, 0.99)),
		MaxMs:  ms(sorted[len(sorted)-1]),
		MeanMs: ms(sum / time.Duration(len(sorted))),
	}
}

// quantiles is "p50 3 ms, p99 41 ms, max 80 ms"; "none" for nil.
func (l *Latencies) quantiles() string {
	if l == nil {
		return "none"
	}
	return fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms", l.P50Ms, l.P99Ms, l.MaxMs)
}

// quantile is the nearest-rank quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
