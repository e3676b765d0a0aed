package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

// owner is one object read from an owner file, with where it came from for messages.
type owner struct {
	// Source is "file: document N".
	Source string
	Object *unstructured.Unstructured
}

// readOwners reads the objects of a multi-document YAML or JSON file, or of stdin for "-".
// Blank documents are skipped and a v1 List is replaced by its items.
func readOwners(file string, stdin io.Reader) ([]owner, error) {
	var (
		data []byte
		err  error
		name = file
	)
	if file == "-" {
		name = "stdin"
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, unwrapPath(err))
	}
	var owners []owner
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		source := fmt.Sprintf("%s: document %d", name, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if blank(doc) {
			continue
		}
		objs, err := renderer.DecodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		for _, o := range objs {
			owners = append(owners, owner{Source: source, Object: o})
		}
	}
	if len(owners) == 0 {
		return nil, fmt.Errorf("%s: no objects", name)
	}
	return owners, nil
}

// readAllOwners reads every file of -f in order and checks that the watch watches each owner.
func readAllOwners(w *config.Watch, files []string, stdin io.Reader) ([]owner, error) {
	var (
		all  []owner
		errs []error
	)
	for _, f := range files {
		owners, err := readOwners(f, stdin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, o := range owners {
			if err := checkKind(w, o); err != nil {
				errs = append(errs, err)
				continue
			}
			all = append(all, o)
		}
	}
	return all, errors.Join(errs...)
}

// checkKind refuses an owner of another kind than the watch's: its templates were written for
// that kind, and bosun would never render them for another.
func checkKind(w *config.Watch, o owner) error {
	gvk := o.Object.GroupVersionKind()
	if gvk == w.GVK {
		return nil
	}
	return fmt.Errorf("%s: %s/%s is apiVersion %s, kind %s, but watch %s watches apiVersion %s, kind %s",
		o.Source, gvk.Kind, o.Object.GetName(), o.Object.GetAPIVersion(), gvk.Kind,
		w.Name, w.GVK.GroupVersion().String(), w.GVK.Kind)
}

// watchNotes explains why bosun would not reconcile an owner that the watch's namespaces or
// selector leave out; rendering it anyway is still useful while writing templates.
func watchNotes(w *config.Watch, o owner) []string {
	var notes []string
	ref := applier.OwnerRef(o.Object)
	if ns := o.Object.GetNamespace(); ns != "" && len(w.Namespaces) > 0 && !slices.Contains(w.Namespaces, ns) {
		notes = append(notes, fmt.Sprintf("%s: %s is in namespace %s, which watch %s does not watch (namespaces: %s): bosun would not render it",
			o.Source, ref, ns, w.Name, strings.Join(w.Namespaces, ", ")))
	}
	if !w.Selector.Matches(labels.Set(o.Object.GetLabels())) {
		notes = append(notes, fmt.Sprintf("%s: %s does not match the selector %q of watch %s: bosun would not render it",
			o.Source, ref, w.SelectorText, w.Name))
	}
	return notes
}

// render renders one owner as the watcher does, within the watch's render timeout.
func render(ctx context.Context, w *config.Watch, r source, obj *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, w.RenderTimeout)
	defer cancel()
	children, err := r.Render(ctx, obj)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%s: render: took longer than renderTimeout (%s)", applier.OwnerRef(obj), w.RenderTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: render: %w", applier.OwnerRef(obj), err)
	}
	return children, nil
}

// unwrapPath drops the operation of an *fs.PathError: "x: no such file or directory" reads
// better than "open x: no such file or directory" after the file name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// blank reports whether a document holds only whitespace, comments and separators.
func blank(doc []byte) bool {
	for line := range bytes.SplitSeq(doc, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}
