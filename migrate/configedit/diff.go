package configedit

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// UnifiedDiff renders a unified diff with context lines. Callers pass texts
// that are already redacted: a diff is printed, saved and logged, so it must
// never carry a secret. CRLF is shown as LF so diffs stay readable; a change
// of line endings alone never happens in kmsctl's edits.
func UnifiedDiff(path string, before, after []byte, context int) string {
	if string(before) == string(after) {
		return ""
	}
	d := difflib.UnifiedDiff{
		A:        splitLines(before),
		B:        splitLines(after),
		FromFile: "a" + path,
		ToFile:   "b" + path,
		Context:  context,
	}
	s, err := difflib.GetUnifiedDiffString(d)
	if err != nil {
		return "(diff unavailable: " + err.Error() + ")"
	}
	return s
}

// splitLines keeps line ends so a missing final newline shows in the diff.
func splitLines(b []byte) []string {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	lines := strings.SplitAfter(s, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n\\ No newline at end of file\n"
	}
	return lines
}
