package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
)

// bosunController is the reportingController of the Events bosun records (internal/cli/run.go's
// recorder).
const bosunController = "bosun"

// maxEvents is how many Events explain shows.
const maxEvents = 10

// explainEvent is one Event about the owner.
type explainEvent struct {
	// Time is when it was last seen (RFC 3339): the series' last observation, else its time.
	Time   string `json:"time"`
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Action string `json:"action,omitempty"`
	Note   string `json:"note"`
	// Count is how many times it was seen (a series folds repeats).
	Count int32 `json:"count"`
	// From is the controller that reported it.
	From string `json:"from"`

	at time.Time
}

// ownerEvents are the Events about the owner (events.k8s.io/v1, by its UID), newest first.
// Those of a cluster-scoped owner are in the default namespace, as client-go records them.
// One list request with a field selector; the UID is checked here too, for servers (and
// fakes) that ignore the selector.
func ownerEvents(ctx context.Context, c *readClients, owner *unstructured.Unstructured) ([]explainEvent, error) {
	ns := owner.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	list, err := c.events.Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("regarding.uid", string(owner.GetUID())).String()})
	if err != nil {
		return nil, fmt.Errorf("cannot read Events: %w", err)
	}
	var out []explainEvent
	for i := range list.Items {
		e := &list.Items[i]
		if e.Regarding.UID != owner.GetUID() {
			continue
		}
		out = append(out, eventOf(e))
	}
	slices.SortStableFunc(out, func(a, b explainEvent) int { return b.at.Compare(a.at) })
	return out, nil
}

func eventOf(e *eventsv1.Event) explainEvent {
	x := explainEvent{Type: e.Type, Reason: e.Reason, Action: e.Action, Note: e.Note, Count: 1, From: e.ReportingController}
	switch {
	case e.Series != nil:
		x.at, x.Count = e.Series.LastObservedTime.Time, e.Series.Count
	case !e.EventTime.IsZero():
		x.at = e.EventTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		x.at = e.DeprecatedLastTimestamp.Time
		x.Count = max(e.DeprecatedCount, 1)
	default:
		x.at = e.CreationTimestamp.Time
	}
	if x.From == "" {
		x.From = e.DeprecatedSource.Component
	}
	x.Time = x.at.UTC().Format(time.RFC3339)
	return x
}
