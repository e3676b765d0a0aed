// Package metrics defines bosun's Prometheus metrics and serves them.
//
// Every metric lives in a Registry made per run. The one exception is forced by client-go:
// its work queue and REST client report to process-wide hooks that can be set only once, so
// their collectors are created once per process and registered into every Registry made
// later (see clientgo.go).
package metrics
