// Package render is the only place that knows about terminal styling
// (lipgloss). Commands describe what to show (rows, tones); render decides
// how it looks on a terminal and falls back to plain aligned text in a pipe,
// so scripts and golden tests never see escape codes.
package render

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Tone is the meaning of a piece of text; render maps it to a colour.
type Tone int

// Tones, from neutral to alarming.
const (
	Plain  Tone = iota // no styling
	Good               // healthy, passed
	Warn               // degraded, needs attention soon
	Bad                // failed, unhealthy
	Strong             // emphasis, e.g. the cluster leader
	Faint              // secondary information
)

// Options say what the output stream can show.
type Options struct {
	// TTY: the stream is a terminal, so tables get borders.
	TTY bool
	// Color: colours and bold are allowed (TTY, no NO_COLOR, no --no-color).
	Color bool
	// Width is the terminal's width in columns; a table wider than that
	// drops its low-value columns (Table.Drop). 0 means no limit (pipes,
	// --wide).
	Width int
}

// Painter styles short strings for one output stream.
type Painter struct {
	r *lipgloss.Renderer
}

// NewPainter returns a Painter for w; without colour it returns text as is.
func NewPainter(w io.Writer, o Options) Painter {
	r := lipgloss.NewRenderer(w)
	if o.Color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return Painter{r: r}
}

// Style returns the lipgloss style of a tone.
func (p Painter) Style(t Tone) lipgloss.Style {
	s := p.r.NewStyle()
	switch t {
	case Good:
		return s.Foreground(lipgloss.Color("2"))
	case Warn:
		return s.Foreground(lipgloss.Color("3"))
	case Bad:
		return s.Foreground(lipgloss.Color("1")).Bold(true)
	case Strong:
		return s.Bold(true)
	case Faint:
		return s.Faint(true)
	}
	return s
}

// Paint returns s styled with tone t.
func (p Painter) Paint(t Tone, s string) string {
	if t == Plain {
		return s
	}
	return p.Style(t).Render(s)
}
