package cmd

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/kmsctl/kmsctl/render"
)

// IOStreams are the process's standard streams plus what is known about
// them. stdout carries data (tables, JSON), stderr carries progress and
// warnings, so `kmsctl status -o json | jq` always gets clean JSON.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTTY: stdout is a terminal (tables get borders).
	IsTTY bool
	// ErrTTY: stderr is a terminal (live progress may be coloured).
	ErrTTY bool
	// InTTY: stdin is a terminal (secrets may be prompted for).
	InTTY bool
	// NoColor: NO_COLOR is set, TERM=dumb, or --no-color was given.
	NoColor bool
	// Dumb: TERM=dumb, a terminal that shows no escape codes or box
	// drawing: plain text as in a pipe.
	Dumb bool
	// Width is stdout's terminal width in columns (0: unknown or a pipe);
	// tables wider than that drop low-value columns.
	Width int
	// Wide: --wide, every column whatever the width.
	Wide bool
}

// SystemIO returns the real streams of the process.
func SystemIO() *IOStreams {
	dumb := os.Getenv("TERM") == "dumb"
	s := &IOStreams{
		In:      os.Stdin,
		Out:     os.Stdout,
		ErrOut:  os.Stderr,
		IsTTY:   term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		InTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		NoColor: os.Getenv("NO_COLOR") != "" || dumb,
		Dumb:    dumb,
	}
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && s.IsTTY {
		s.Width = w
	} else if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && s.IsTTY {
		s.Width = n // a terminal that does not report its size
	}
	return s
}

// ColorEnabled: colour only on a terminal, and never when the operator
// asked for none (NO_COLOR, --no-color).
func (s *IOStreams) ColorEnabled() bool { return s.IsTTY && !s.NoColor && !s.Dumb }

// RenderOptions tells render how stdout may be styled: TERM=dumb is plain
// like a pipe; the width limit applies on a terminal without --wide.
func (s *IOStreams) RenderOptions() render.Options {
	o := render.Options{TTY: s.IsTTY && !s.Dumb, Color: s.ColorEnabled()}
	if o.TTY && !s.Wide {
		o.Width = s.Width
	}
	return o
}

// ErrRenderOptions tells render how stderr (progress) may be styled.
func (s *IOStreams) ErrRenderOptions() render.Options {
	tty := s.ErrTTY && !s.Dumb
	return render.Options{TTY: tty, Color: tty && !s.NoColor}
}

// Prompt reads a secret from the terminal without echo; nil when stdin is
// not a terminal, so callers fall back to a clear error instead of hanging.
func (s *IOStreams) Prompt() func(label string) ([]byte, error) {
	f, ok := s.In.(*os.File)
	if !s.InTTY || !ok {
		return nil
	}
	return func(label string) ([]byte, error) {
		_, _ = io.WriteString(s.ErrOut, label+": ")
		defer io.WriteString(s.ErrOut, "\n")
		return term.ReadPassword(int(f.Fd()))
	}
}
