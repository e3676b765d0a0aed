package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// getPrinter prints get's rows as a table, JSON or YAML: all of them at once, then (with
// --follow) one at a time.
type getPrinter struct {
	out    io.Writer
	format string
	// namespaces adds the NAMESPACE column (-A).
	namespaces bool
	width      int
	now        func() time.Time
	t          *table
	header     bool // printed
}

func (g *getter) printer(out io.Writer, rows []getRow) *getPrinter {
	p := &getPrinter{out: out, format: g.o.Output, namespaces: g.ns == metav1.NamespaceAll, width: g.o.width, now: g.o.now}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = p.cells(r)
	}
	p.t = newTable(p.headers(), cells)
	return p
}

func (p *getPrinter) headers() []string {
	h := []string{"WATCH"}
	if p.namespaces {
		h = append(h, "NAMESPACE")
	}
	return append(h, "NAME", "READY", "REASON", "AGE", "CHILDREN", "VERSION", "MESSAGE")
}

func (p *getPrinter) cells(r getRow) []string {
	c := []string{r.Watch}
	if p.namespaces {
		c = append(c, r.Namespace)
	}
	return append(c, r.Name, r.Ready, r.Reason, age(r.created, p.now()), r.Children.String(), r.Version, r.Message)
}

// all prints the rows: a table (nothing when there are none), or one JSON or YAML list.
func (p *getPrinter) all(rows []getRow) error {
	switch p.format {
	case "json":
		b, err := indentedJSON(rows)
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		_, err = p.out.Write(b)
		return err
	case "yaml":
		b, err := yaml.Marshal(rows)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = p.out.Write(b)
		return err
	}
	for _, r := range rows {
		if err := p.one(r); err != nil {
			return err
		}
	}
	return nil
}

// one prints a single row: a table line (after the header, once), a JSON object or a YAML
// document.
func (p *getPrinter) one(r getRow) error {
	switch p.format {
	case "json":
		b, err := indentedJSON(r)
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		_, err = p.out.Write(b)
		return err
	case "yaml":
		b, err := yaml.Marshal(r)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = fmt.Fprintf(p.out, "---\n%s", b)
		return err
	}
	if !p.header {
		p.header = true
		if err := p.t.write(p.out, p.headers(), 0); err != nil {
			return err
		}
	}
	return p.t.write(p.out, p.cells(r), p.width)
}

// indentedJSON is v as indented JSON with a final newline, leaving <, > and & as they are (the
// messages quote Go templates).
func indentedJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
