package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bosun-dev/bosun/config"
)

// importOptions are the flags every import subcommand has.
type importOptions struct {
	// Out is the directory to write one watch file per watch into; empty: stdout.
	Out string
	// PathsFrom is the directory relative paths of the input are read against; empty: the
	// tool's own convention (see each subcommand).
	PathsFrom string
}

func newImportCommand() *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn a helm-operator watches.yaml or a Lostromos config into bosun watch files",
		Long: `Turn the config of another controller of the same kind into bosun watch files: helm-operator's
watches.yaml (operator-sdk's Helm-based operators) or Lostromos' config file and flags.

The watches are printed to stdout, one YAML document each, or written with --out DIR as one
file per watch (DIR/NAME.yaml). Every key of the input without an equivalent in bosun is named
in a comment at the top of its watch and in a note on stderr; nothing else is printed on
stdout. Each watch is loaded as bosun run would load it before it is printed.

Chart and template paths are written relative to the directory the watch goes to: --out DIR,
or the current directory for stdout.`,
		Example: `  bosun import helm-operator watches.yaml --out watches/
  bosun import lostromos lostromos.yaml --kind Character`,
		Args: cobra.NoArgs,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.Out, "out", "", "write one watch file per watch into this directory instead of printing them")
	f.StringVar(&o.PathsFrom, "paths-from", "", "read relative chart and template paths of the input against this directory (default: helm-operator: the watches file's directory; Lostromos: the current directory)")
	cmd.AddCommand(newImportHelmOperatorCommand(o), newImportLostromosCommand(o))
	return cmd
}

// importedWatch is one bosun watch made from another tool's config: its settings in the order
// they are written, and what did not carry over.
type importedWatch struct {
	name string
	// group and version of the watched kind tell apart watches of the same kind's name.
	group, version string
	// from says where the watch came from, for the header: "watches.yaml:3 (helm-operator)".
	from   string
	fields []importedField
	// lost are the input's keys without an equivalent, as "AT: KEY: why".
	lost []string
	// notes are what else the user should know, as "AT: text".
	notes []string
}

// messages are the watch's lost keys and notes for stderr, in the order of the input.
func (w *importedWatch) messages() []string {
	var out []string
	for _, l := range w.lost {
		out = append(out, l+" (no equivalent in bosun)")
	}
	out = append(out, w.notes...)
	slices.SortStableFunc(out, func(a, b string) int {
		fa, la := position(a)
		fb, lb := position(b)
		if c := strings.Compare(fa, fb); c != 0 {
			return c
		}
		return la - lb
	})
	return out
}

// position splits the "FILE:LINE" a message starts with; a flag (--crd-name) has line 0.
func position(msg string) (string, int) {
	at, _, _ := strings.Cut(msg, ": ")
	file, line, ok := strings.Cut(at, ":")
	n, err := strconv.Atoi(line)
	if !ok || err != nil {
		return at, 0
	}
	return file, n
}

// importedField is one top-level setting of an imported watch.
type importedField struct {
	key string
	// value is a string, a bool, an int, a []string, or a map[string]any. Paths (path set) are
	// absolute and written relative to the watch file's directory.
	value any
	path  bool
	// flow writes a map on one line: watch: {group: ..., version: ..., kind: ...}.
	flow bool
	// head is a comment above the key, line a comment after a scalar value.
	head, line string
}

func (w *importedWatch) set(f importedField) { w.fields = append(w.fields, f) }

func (w *importedWatch) loseKey(at, key, why string) {
	w.lost = append(w.lost, fmt.Sprintf("%s: %s: %s", at, key, why))
}

func (w *importedWatch) note(at, text string) {
	w.notes = append(w.notes, fmt.Sprintf("%s: %s", at, text))
}

// writeImported validates the watches, then prints them to stdout or writes them into o.Out,
// and the notes to stderr. Nothing is written when a watch is invalid.
func writeImported(o *importOptions, watches []*importedWatch, stdout, stderr io.Writer) error {
	uniqueNames(watches)
	outDir := o.Out
	if outDir == "" {
		outDir = "."
	}
	outDir, err := filepath.Abs(outDir)
	if err != nil {
		return err
	}
	docs := make([][]byte, len(watches))
	var errs []error
	relative := false
	for i, w := range watches {
		if err := validateImported(w); err != nil {
			errs = append(errs, err)
			continue
		}
		docs[i], err = w.document(func(p string) string {
			rel, ok := relativePath(outDir, p)
			relative = relative || ok
			return rel
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, w := range watches {
		for _, m := range w.messages() {
			fmt.Fprintln(stderr, "note:", m)
		}
	}
	if o.Out == "" {
		if relative {
			fmt.Fprintln(stderr, "note: paths are relative to the current directory: save the watches here, or use --out DIR")
		}
		_, err := stdout.Write(slices.Concat(docs...))
		return err
	}
	return writeImportedFiles(o.Out, watches, docs, stderr)
}

// relativePath returns path relative to dir, and true; or path itself when the two share no
// directory below the root, where "../../.." would only tie the watch to where it was made.
func relativePath(dir, path string) (string, bool) {
	top := func(p string) string {
		p = strings.TrimPrefix(filepath.ToSlash(p), filepath.ToSlash(filepath.VolumeName(p))+"/")
		first, _, _ := strings.Cut(p, "/")
		return first
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || top(dir) != top(path) {
		return filepath.ToSlash(path), false
	}
	return filepath.ToSlash(rel), true
}

// writeImportedFiles writes each watch to DIR/NAME.yaml, refusing to replace a file.
func writeImportedFiles(dir string, watches []*importedWatch, docs [][]byte, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return pathErr(dir, err)
	}
	for i, w := range watches {
		file := filepath.Join(dir, w.name+".yaml")
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: exists; not replaced (remove it to import again)", file)
		}
		if err != nil {
			return pathErr(file, err)
		}
		_, err = f.Write(bytes.TrimPrefix(docs[i], []byte("---\n")))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return pathErr(file, err)
		}
		fmt.Fprintln(stderr, "wrote", file)
	}
	return nil
}

func pathErr(path string, err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// validateImported loads w as bosun run would, with its paths absolute, so that import never
// prints a watch bosun refuses.
func validateImported(w *importedWatch) error {
	doc, err := w.document(func(p string) string { return p })
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bosun-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, w.name+".yaml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		return err
	}
	if _, err := config.LoadFile(file); err != nil {
		return fmt.Errorf("%s: the watch made from it is not valid: %s", w.from, strings.ReplaceAll(err.Error(), file+": ", ""))
	}
	return nil
}

// uniqueNames makes the watches' names unique (bosun refuses two watches of the same name) by
// adding the version, then the group, to those that share one.
func uniqueNames(watches []*importedWatch) {
	count := func() map[string]int {
		n := map[string]int{}
		for _, w := range watches {
			n[w.name]++
		}
		return n
	}
	for _, part := range []string{"version", "group"} {
		n := count()
		for _, w := range watches {
			if n[w.name] > 1 {
				if s := map[string]string{"version": w.version, "group": w.group}[part]; s != "" {
					w.name += "-" + strings.ReplaceAll(s, ".", "-")
				}
			}
		}
	}
	for _, w := range watches {
		for i := range w.fields {
			if w.fields[i].key == "name" {
				w.fields[i].value = w.name
			}
		}
	}
}
