package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func sample() Table {
	return Table{
		Headers: []string{"NODE", "STATE"},
		Rows:    [][]string{{"kms-1", "active"}, {"kms-22", ""}},
		Tone: func(row, col int) Tone {
			if col == 1 && row == 0 {
				return Good
			}
			return Plain
		},
	}
}

func TestPlainTable(t *testing.T) {
	var b bytes.Buffer
	if err := sample().Write(&b, Options{}); err != nil {
		t.Fatal(err)
	}
	want := "NODE    STATE\nkms-1   active\nkms-22  -\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestTerminalTable(t *testing.T) {
	tests := []struct {
		name      string
		o         Options
		wantColor bool
	}{
		{"tty without colour", Options{TTY: true}, false},
		{"tty with colour", Options{TTY: true, Color: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := sample().Write(&b, tt.o); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, "╭") || !strings.Contains(out, "kms-22") {
				t.Errorf("no bordered table:\n%s", out)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.wantColor {
				t.Errorf("escape codes present = %v, want %v:\n%q", got, tt.wantColor, out)
			}
		})
	}
}

func TestPaint(t *testing.T) {
	var b bytes.Buffer
	if got := NewPainter(&b, Options{}).Paint(Bad, "failed"); got != "failed" {
		t.Errorf("no colour: got %q", got)
	}
	if got := NewPainter(&b, Options{Color: true}).Paint(Bad, "failed"); !strings.Contains(got, "\x1b[") {
		t.Errorf("colour: got %q", got)
	}
}

// TestTableFitsWidth: a table wider than the terminal drops the columns of
// Drop, in order, and keeps each remaining cell's tone.
func TestTableFitsWidth(t *testing.T) {
	tbl := Table{
		Headers: []string{"NODE", "VERSION", "STATE", "DETAIL"},
		Rows:    [][]string{{"kms-1", "2025-10-01T00-00-00Z", "active", "a long detail column"}},
		Tone: func(_, col int) Tone {
			if col == 2 {
				return Good
			}
			return Plain
		},
		Drop: []int{1, 3},
	}
	for _, tc := range []struct {
		width  int
		want   []string
		hidden int
	}{
		{0, []string{"VERSION", "DETAIL"}, 0},
		{200, []string{"VERSION", "DETAIL"}, 0},
		{50, []string{"DETAIL"}, 1},
		{20, []string{"NODE", "STATE"}, 2},
	} {
		var b bytes.Buffer
		hidden := -1
		tbl.Hidden = &hidden
		if err := tbl.Write(&b, Options{TTY: true, Color: true, Width: tc.width}); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("width %d: %q missing:\n%s", tc.width, w, b.String())
			}
		}
		if hidden != tc.hidden {
			t.Errorf("width %d: hidden %d, want %d", tc.width, hidden, tc.hidden)
		}
		if tc.width == 50 && (strings.Contains(b.String(), "VERSION") || !strings.Contains(b.String(), "\x1b[32mactive")) {
			t.Errorf("width 50: VERSION kept or STATE lost its tone:\n%q", b.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if tc.width > 0 && lipglossWidth(line) > tc.width && tc.hidden < len(tbl.Drop) {
				t.Errorf("width %d: line of %d columns: %s", tc.width, lipglossWidth(line), line)
			}
		}
	}
}

func lipglossWidth(s string) int { return lipgloss.Width(s) }

// TestTableWrapsWhatItCannotDrop: a table with nothing left to drop wraps
// its cells to the terminal width.
func TestTableWrapsWhatItCannotDrop(t *testing.T) {
	tbl := Table{Headers: []string{"CHECK", "MESSAGE"}, Rows: [][]string{{"login", strings.Repeat("a long message ", 10)}}}
	var b bytes.Buffer
	if err := tbl.Write(&b, Options{TTY: true, Width: 60}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if w := lipglossWidth(line); w > 60 {
			t.Errorf("line of %d columns: %s", w, line)
		}
	}
	if strings.Count(b.String(), "message") != 10 {
		t.Errorf("wrapping lost text:\n%s", b.String())
	}
}
