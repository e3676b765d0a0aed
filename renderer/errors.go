package renderer

import (
	"fmt"
	"strings"
)

// Error is a render that failed because of the templates or the owner's data: a template error,
// output that is not a valid list of objects, a limit that was hit. It is terminal — rendering the
// same owner with the same templates fails the same way — so callers should not retry it before
// the owner or the templates change. Context cancellation is never an *Error.
type Error struct {
	// Template is the output template that failed; empty when the owner's data is unusable.
	Template string
	// Document is the 1-based YAML document of the template's output that failed, or 0.
	Document int
	Err      error
}

func (e *Error) Error() string {
	switch {
	case e.Template == "":
		return e.Err.Error()
	case e.Document > 0:
		return fmt.Sprintf("template %s: document %d: %v", e.Template, e.Document, e.Err)
	}
	msg := e.Err.Error()
	// text/template already leads with "template: <name>:<line>:<col>:" when the error is in the
	// output template itself; only errors raised elsewhere (a helper, the writer) need the name.
	if strings.HasPrefix(msg, "template: "+e.Template+":") {
		return msg
	}
	return fmt.Sprintf("template %s: %s", e.Template, msg)
}

func (e *Error) Unwrap() error { return e.Err }
