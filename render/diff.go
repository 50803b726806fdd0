package render

import "strings"

// Diff colours a unified diff for a terminal: additions green, removals
// red, hunk headers faint. Without colour it returns the text unchanged, so
// a diff piped to a file is a valid patch.
func (p Painter) Diff(diff string) string {
	lines := strings.SplitAfter(diff, "\n")
	var b strings.Builder
	for _, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		nl := l[len(body):]
		switch {
		case strings.HasPrefix(body, "+++"), strings.HasPrefix(body, "---"):
			b.WriteString(p.Paint(Strong, body))
		case strings.HasPrefix(body, "@@"):
			b.WriteString(p.Paint(Faint, body))
		case strings.HasPrefix(body, "+"):
			b.WriteString(p.Paint(Good, body))
		case strings.HasPrefix(body, "-"):
			b.WriteString(p.Paint(Bad, body))
		default:
			b.WriteString(body)
		}
		b.WriteString(nl)
	}
	return b.String()
}
