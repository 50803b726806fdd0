package render

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiffPlainIsUnchanged(t *testing.T) {
	d := "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n ctx\n"
	var buf bytes.Buffer
	if got := NewPainter(&buf, Options{}).Diff(d); got != d {
		t.Fatalf("plain diff changed:\n%q", got)
	}
	colored := NewPainter(&buf, Options{TTY: true, Color: true}).Diff(d)
	if colored == d || !strings.Contains(colored, "\x1b[") || !strings.Contains(colored, "new") {
		t.Fatalf("coloured diff has no escapes: %q", colored)
	}
}
