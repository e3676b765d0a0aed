package watcher

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// EventRecorder records Kubernetes Events; client-go's events.EventRecorder implements it.
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// maxNote is the API server's limit on an Event's note.
const maxNote = 1024

// event records an Event on the owner, if Events are enabled.
func (c *controller) event(owner *unstructured.Unstructured, reason, action, note string) {
	if c.opts.Events == nil {
		return
	}
	if len(note) > maxNote {
		note = note[:maxNote-3] + "..."
	}
	c.opts.Events.Eventf(owner, nil, eventType(reason), reason, action, "%s", note)
}

// reported remembers the state reported for an owner and says whether it is new, and which
// settled reason (not Progressing) was reported before it (see lastReports.note).
func (c *controller) reported(owner *unstructured.Unstructured, reason, note string) (settled string, changed bool) {
	return c.reports.note(owner, reason, note)
}

// forgetOwner drops what is remembered of an owner that is gone.
func (c *controller) forgetOwner(key cache.ObjectName) {
	c.paused.set(key, false)
	c.reports.forget(key)
}
