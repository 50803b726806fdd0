package configedit

import (
	"bytes"
	"strings"
)

// cfgLine is one physical line of a config: its text and the exact line end
// it had ("\n", "\r\n", or "" for a last line without one). Keeping the end
// per line is what lets an edit leave CRLF files and missing final newlines
// alone.
type cfgLine struct {
	text string
	eol  string
}

// splitCfgLines cuts b into lines without losing a byte: joining them gives
// b back. A lone "\r" is a line break to YAML but not to us, so the caller
// refuses such files first.
func splitCfgLines(b []byte) []cfgLine {
	var lines []cfgLine
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, cfgLine{text: string(b)})
			break
		}
		l := cfgLine{text: string(b[:i]), eol: "\n"}
		if strings.HasSuffix(l.text, "\r") {
			l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
		}
		lines = append(lines, l)
		b = b[i+1:]
	}
	return lines
}

// joinCfgLines is the inverse of splitCfgLines.
func joinCfgLines(lines []cfgLine) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return b.Bytes()
}

// hasLoneCR reports a "\r" that does not start a "\r\n".
func hasLoneCR(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return true
		}
	}
	return false
}

func lineBlank(s string) bool { return strings.TrimSpace(s) == "" }

func lineComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }

// lineIndent counts leading spaces; tab reports whether a tab shows up in the
// leading white space, where it would make the count meaningless.
func lineIndent(s string) (n int, tab bool) {
	for _, c := range s {
		switch c {
		case ' ':
			n++
		case '\t':
			tab = true
			n++
		default:
			return n, tab
		}
	}
	return n, tab
}

// blockEnd returns the index of the last line that belongs to the mapping
// entry whose key is on line start at column col (both 0-based): every
// following line indented deeper than col (a document marker or a sibling
// key is never deeper), plus comments indented deeper that directly follow
// it. Blank lines and shallower comments after the
// entry belong to whatever comes next and are not included.
func blockEnd(lines []cfgLine, start, col int) int {
	end := start
	for i := start + 1; i < len(lines); i++ {
		t := lines[i].text
		if lineBlank(t) || lineComment(t) {
			continue
		}
		if n, _ := lineIndent(t); n <= col {
			break
		}
		end = i
	}
	for i := end + 1; i < len(lines); i++ {
		t := lines[i].text
		if lineBlank(t) {
			continue
		}
		if n, _ := lineIndent(t); !lineComment(t) || n <= col {
			break
		}
		end = i
	}
	return end
}

// tabIndented returns the 1-based number of the first line in [from, to]
// whose indentation holds a tab, or 0.
func tabIndented(lines []cfgLine, from, to int) int {
	for i := from; i <= to && i < len(lines); i++ {
		if lineBlank(lines[i].text) {
			continue
		}
		if _, tab := lineIndent(lines[i].text); tab {
			return i + 1
		}
	}
	return 0
}

// eolNear picks the line end for new lines: the one of the line at idx, else
// the first one in the file, else "\n".
func eolNear(lines []cfgLine, idx int) string {
	if idx >= 0 && idx < len(lines) && lines[idx].eol != "" {
		return lines[idx].eol
	}
	for _, l := range lines {
		if l.eol != "" {
			return l.eol
		}
	}
	return "\n"
}

// spliceLines replaces lines[from:to] (to exclusive) with texts, each ended
// with eol. When the replaced range, or the line before an insertion at the
// end, was the last line and had no line end, the result keeps having none.
func spliceLines(lines []cfgLine, from, to int, texts []string, eol string) []cfgLine {
	out := make([]cfgLine, 0, len(lines)+len(texts))
	out = append(out, lines[:from]...)
	atEnd := to == len(lines)
	noFinalEOL := len(lines) > 0 && lines[len(lines)-1].eol == ""
	if atEnd && from == to && noFinalEOL && from > 0 {
		out[from-1].eol = eol
	}
	for _, t := range texts {
		out = append(out, cfgLine{text: t, eol: eol})
	}
	if atEnd && noFinalEOL && len(texts) > 0 {
		out[len(out)-1].eol = ""
	}
	return append(out, lines[to:]...)
}
