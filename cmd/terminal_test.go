package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

// statusOn runs status with stdout as the given terminal.
func statusOn(t *testing.T, io *IOStreams, args ...string) string {
	t.Helper()
	s := newScenario()
	s.env["MINIO_KMS_API_KEY"] = "k1:fake"
	f, _, _ := testFactory(s.dialer, s.apis, s.env)
	var out bytes.Buffer
	io.In, io.Out, io.ErrOut = strings.NewReader(""), &out, &bytes.Buffer{}
	f.IO = io
	Main(context.Background(), f, append([]string{"status", "-i", "testdata/status-inventory.yaml"}, args...))
	return out.String()
}

// TestStatusFitsTerminal: on an 80-column terminal every line fits and a
// note says how to see the rest; --wide shows every column.
func TestStatusFitsTerminal(t *testing.T) {
	out := statusOn(t, &IOStreams{IsTTY: true, Width: 80})
	for _, l := range strings.Split(out, "\n") {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("line of %d columns on an 80-column terminal: %s", w, l)
		}
	}
	if !strings.Contains(out, "--wide shows all") || !strings.Contains(out, "NODE") || !strings.Contains(out, "READY") {
		t.Errorf("narrow table:\n%s", out)
	}
	wide := statusOn(t, &IOStreams{IsTTY: true, Width: 80}, "--wide")
	for _, h := range statusHeaders {
		if !strings.Contains(wide, h) {
			t.Errorf("--wide lacks %s", h)
		}
	}
	if pipe := statusOn(t, &IOStreams{Width: 80}); !strings.Contains(pipe, "HSM ENTRIES") {
		t.Errorf("a pipe must keep every column (scripts read it):\n%s", pipe)
	}
}

// TestTermDumbIsPlain: TERM=dumb gets neither colours nor box drawing,
// even on a terminal.
func TestTermDumbIsPlain(t *testing.T) {
	t.Setenv("TERM", "dumb")
	t.Setenv("NO_COLOR", "")
	sys := SystemIO()
	if !sys.Dumb || !sys.NoColor {
		t.Fatalf("TERM=dumb not detected: %+v", sys)
	}
	out := statusOn(t, &IOStreams{IsTTY: true, ErrTTY: true, Dumb: true, NoColor: true})
	if strings.Contains(out, "\x1b[") || strings.Contains(out, "╭") {
		t.Errorf("TERM=dumb output has escape codes or borders:\n%q", out)
	}
	if o := (&IOStreams{ErrTTY: true, Dumb: true}).ErrRenderOptions(); o.TTY || o.Color {
		t.Errorf("stderr options under TERM=dumb: %+v", o)
	}
}
