package cmd

import "bytes"

// NewTestIOStreams returns streams backed by buffers, for tests of any
// command (like gh's iostreams.Test): stdin (what a confirmation reads),
// stdout and stderr. None is a terminal until SetTTY(true), so a test sees
// what a pipe or CI sees by default.
func NewTestIOStreams() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY makes stdin, stdout and stderr terminals or not at once: with a
// terminal tables get borders, progress may be coloured (unless NoColor)
// and the operator is asked to confirm (Confirm reads a line of In).
func (s *IOStreams) SetTTY(tty bool) { s.IsTTY, s.ErrTTY, s.InTTY = tty, tty, tty }
