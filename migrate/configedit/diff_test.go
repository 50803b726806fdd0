package configedit

import (
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	before := []byte("a\nb\nc\nd\ne\nf\ng\n")
	after := []byte("a\nb\nc\nX\ne\nf\ng\n")
	got := UnifiedDiff("/etc/x", before, after, 1)
	want := "--- a/etc/x\n+++ b/etc/x\n@@ -3,3 +3,3 @@\n c\n-d\n+X\n e\n"
	if got != want {
		t.Fatalf("diff =\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff("/x", before, before, 3) != "" {
		t.Fatal("equal inputs must give no diff")
	}
	noEOL := UnifiedDiff("/x", []byte("a\nb"), []byte("a\nc"), 3)
	if !strings.Contains(noEOL, "No newline at end of file") {
		t.Fatalf("missing final newline not shown:\n%s", noEOL)
	}
}
