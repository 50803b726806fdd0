package render

import (
	"bytes"
	"strings"
	"testing"
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
