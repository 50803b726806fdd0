package render

import (
	"fmt"
	"io"
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
}

// Write renders t to w: a bordered lipgloss table on a terminal, plain text
// aligned with spaces otherwise. Empty cells show as "-" in both.
func (t Table) Write(w io.Writer, o Options) error {
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
	return t.Tone(row, col)
}
