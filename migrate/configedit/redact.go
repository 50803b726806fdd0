package configedit

import (
	"regexp"
	"strings"
)

// redactedValue replaces secret values in anything kmsctl prints.
const redactedValue = "<redacted>"

// redactKeyLine matches a block-style key whose value is a credential:
// group 1 is everything up to the value, group 2 the key, group 3 the value.
var redactKeyLine = regexp.MustCompile(`^(\s*(?:-\s+)?["']?(secret|secret_id|jwt|token|password)["']?\s*:)(?:\s+(.*))?$`)

// redactFlow matches the same keys inside a flow mapping ({secret: x}).
var redactFlow = regexp.MustCompile(`(["']?\b(?:secret|secret_id|jwt|token|password)["']?\s*:\s*)("[^"]*"|'[^']*'|[^,}\s]+)`)

// Redact returns a copy of a config with every credential value
// (approle secrets, tokens, a kubernetes jwt that is not a file path)
// replaced by <redacted>, keeping lines and line ends so that a diff of two
// redacted files shows exactly the lines that change. It works on lines, not
// on parsed YAML, so it also redacts files that do not parse.
func Redact(b []byte) []byte {
	lines := splitCfgLines(b)
	for i := 0; i < len(lines); i++ {
		m := redactKeyLine.FindStringSubmatch(lines[i].text)
		if m == nil {
			lines[i].text = redactFlow.ReplaceAllString(lines[i].text, "${1}"+redactedValue)
			continue
		}
		if isPathValue(m[2], m[3]) {
			continue
		}
		if m[3] != "" {
			lines[i].text = m[1] + " " + redactedValue
		}
		i = redactContinuation(lines, i)
	}
	return joinCfgLines(lines)
}

// isPathValue keeps a jwt or token that names a file: it is not a secret.
func isPathValue(key, value string) bool {
	v := strings.Trim(value, `"'`)
	return (key == "jwt" || key == "token") && strings.HasPrefix(v, "/") && !strings.ContainsAny(v, " #")
}

// redactContinuation redacts the lines after a credential key that are
// indented deeper than it (a multi-line or block scalar value) and returns
// the index of the last one.
func redactContinuation(lines []cfgLine, i int) int {
	col, _ := lineIndent(lines[i].text)
	j := i + 1
	for ; j < len(lines); j++ {
		t := lines[j].text
		if lineBlank(t) {
			continue
		}
		n, _ := lineIndent(t)
		if n <= col {
			break
		}
		lines[j].text = t[:n] + redactedValue
	}
	return j - 1
}
