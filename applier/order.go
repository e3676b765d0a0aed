package applier

import (
	"github.com/bosun-dev/bosun/internal/kinds"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rank orders one kind for apply; lower goes first (kinds.InstallRank: Helm's install order,
// custom kinds last).
func rank(gk schema.GroupKind) int { return kinds.InstallRank(gk) }

// waveBounds split the install order into waves: what every other object may need (namespaces,
// CRDs), then policy, identity, configuration and storage, then services and workloads, then
// API services and webhooks (registered once what serves them exists), then custom kinds.
// Objects of one wave do not depend on each other to be accepted, so they are sent at once;
// the next wave starts when the previous one is done. A wave is a range of ranks, so waves
// keep the install order between them.
var waveBounds = []int{
	kinds.InstallRank(schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}),
	kinds.InstallRank(schema.GroupKind{Kind: "Service"}),
	kinds.InstallRank(schema.GroupKind{Group: "apiregistration.k8s.io", Kind: "APIService"}),
	kinds.Unranked,
}

// wave returns the wave of a kind; lower goes first.
func wave(gk schema.GroupKind) int {
	r := rank(gk)
	for i, b := range waveBounds {
		if r < b {
			return i
		}
	}
	return len(waveBounds)
}

// deleteWave orders deletes: webhooks and API services first (so they cannot block the
// deletes of what they serve), then every other kind at once — dependents going before what
// they use matters only while they run, and they are all on their way out — and Namespaces
// and CRDs last (deleting them takes what is in them along).
func deleteWave(gk schema.GroupKind) int {
	switch w := wave(gk); {
	case w == 0:
		return 2
	case w == len(waveBounds)-1:
		return 0
	default:
		return 1
	}
}

// perOwnerRequests bounds the requests one owner has in flight within a wave: enough to send
// a few children at once, not so many that one owner with hundreds of children crowds out
// the others' workers.
const perOwnerRequests = 4

// inWaves calls fn for every index of items (sorted by waveOf), running the items of one wave
// concurrently and the waves one after the other.
func inWaves[T any](items []T, waveOf func(T) int, fn func(i int)) {
	sem := make(chan struct{}, perOwnerRequests)
	for start := 0; start < len(items); {
		w := waveOf(items[start])
		end := start + 1
		for end < len(items) && waveOf(items[end]) == w {
			end++
		}
		if end-start == 1 {
			fn(start)
		} else {
			var wg sync.WaitGroup
			for i := start; i < end; i++ {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					fn(i)
				}()
			}
			wg.Wait()
		}
		start = end
	}
}
