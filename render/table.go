package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// Table is rows of cells under headers, with an optional tone per cell.
type Table struct {
	Headers []string
	Rows    [][]string
	// Tone gives a cell's tone (row and col are 0-based data indexes); nil
	// means every cell is Plain.
	Tone func(row, col int) Tone
	// Drop lists columns, lowest value first, that may be left out when the
	// table is wider than Options.Width.
	Drop []int
	// Hidden is set by Write: how many columns it left out.
	Hidden *int

	cols []int // original index of each column, nil when none was dropped
}

// Write renders t to w: a bordered lipgloss table on a terminal, plain text
// aligned with spaces otherwise. Empty cells show as "-" in both. A table
// wider than o.Width loses the columns of t.Drop, in order, until it fits.
func (t Table) Write(w io.Writer, o Options) error {
	t = t.fit(o)
	if !o.TTY {
		return t.writePlain(w)
	}
	p := NewPainter(w, o)
	tbl := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(p.Style(Faint)).
		Headers(t.Headers...).
		Rows(t.cells()...).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return p.Style(Strong).Padding(0, 1)
			}
			return p.Style(t.tone(row, col)).Padding(0, 1)
		})
	if o.Width > 0 && t.width(true) > o.Width {
		tbl = tbl.Width(o.Width).Wrap(true) // still too wide: wrap the cells
	}
	_, err := fmt.Fprintln(w, tbl.Render())
	return err
}

func (t Table) writePlain(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Headers, "\t"))
	for _, r := range t.cells() {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// cells returns the rows with empty cells as "-" and tabs removed.
func (t Table) cells() [][]string {
	out := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			c = strings.ReplaceAll(c, "\t", " ")
			if c == "" {
				c = "-"
			}
			out[i][j] = c
		}
	}
	return out
}

func (t Table) tone(row, col int) Tone {
	if t.Tone == nil {
		return Plain
	}
	return t.Tone(row, t.origin(col))
}

// fit drops columns of t.Drop until the table fits o.Width.
func (t Table) fit(o Options) Table {
	hidden := 0
	for _, col := range t.Drop {
		if o.Width <= 0 || t.width(o.TTY) <= o.Width {
			break
		}
		t = t.without(col)
		hidden++
	}
	if t.Hidden != nil {
		*t.Hidden = hidden
	}
	return t
}

// width is the rendered width: cells plus two spaces between columns
// (plain) or padding and borders (terminal).
func (t Table) width(tty bool) int {
	total := 0
	for c := range t.Headers {
		wc := lipgloss.Width(t.Headers[c])
		for _, r := range t.cells() {
			if c < len(r) {
				wc = max(wc, lipgloss.Width(r[c]))
			}
		}
		total += wc
	}
	if tty {
		return total + 3*len(t.Headers) + 1
	}
	return total + 2*(len(t.Headers)-1)
}

// without removes the column with the original index col (indexes in Drop
// and Tone keep referring to the original columns).
func (t Table) without(col int) Table {
	pos := -1
	cols := make([]int, len(t.Headers))
	for i := range cols {
		cols[i] = t.origin(i)
		if cols[i] == col {
			pos = i
		}
	}
	if pos < 0 {
		return t
	}
	out := t
	out.Headers = slices.Delete(slices.Clone(t.Headers), pos, pos+1)
	out.Rows = make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		out.Rows[i] = slices.Clone(r)
		if pos < len(r) {
			out.Rows[i] = slices.Delete(out.Rows[i], pos, pos+1)
		}
	}
	out.cols = slices.Delete(cols, pos, pos+1)
	return out
}

// origin is the original index of the column now at pos.
func (t Table) origin(pos int) int {
	if t.cols == nil {
		return pos
	}
	return t.cols[pos]
}
