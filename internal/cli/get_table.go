package cli

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// table prints columns as kubectl does: left-aligned, three spaces apart. The last column may
// be cut to a width (the terminal's), as it is free text.
type table struct {
	widths []int
}

const columnGap = 3

// newTable sizes the columns for the header and rows.
func newTable(header []string, rows [][]string) *table {
	t := &table{widths: make([]int, len(header))}
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(cell))
		}
	}
	return t
}

// write prints one row; width > 0 cuts the last cell so that the line fits in it (keeping at
// least 20 characters of it). A cell wider than its column pushes the rest to the right.
func (t *table) write(w io.Writer, row []string, width int) error {
	var b strings.Builder
	used := 0
	for i, cell := range row {
		cell = strings.ReplaceAll(cell, "\n", " ")
		if i == len(row)-1 {
			if width > 0 {
				cell = cut(cell, max(width-used, 20))
			}
			b.WriteString(cell)
			break
		}
		b.WriteString(cell)
		pad := max(t.widths[i]-utf8.RuneCountInString(cell), 0) + columnGap
		b.WriteString(strings.Repeat(" ", pad))
		used += utf8.RuneCountInString(cell) + pad
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n")
	return err
}

// cut shortens s to n characters, the last one an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// terminalWidth is the width of w when it is a terminal, else 0 (no cutting: a file or a pipe
// gets whole lines).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}
