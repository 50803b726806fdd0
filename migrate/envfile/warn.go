package envfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// hsmKeyValue matches the value format of a local HSM key.
var hsmKeyValue = regexp.MustCompile(`hsm:(?:aes256|chacha20):`)

// envWarnings lists lines that still hold a copy of the removed value (or
// something that looks like an HSM key) after the edit, and quoted values
// that never close. An operator removing a key wants every copy gone; these
// are reported, not edited, because they are not assignments.
func envWarnings(input []byte, all, drop []envAssignment, key string) []string {
	var w []string
	for _, a := range all {
		if a.unclosed && !holdsKey(a.key, key) {
			w = append(w, fmt.Sprintf("line %d: a quoted value is never closed; systemd reads the rest of the file as its value", a.line))
		}
	}
	kept := blankRanges(input, drop)
	assign := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `\s*=\s*["']?(?:hsm:|[A-Za-z0-9+/=:_-]{16})`)
	for i, l := range bytes.Split(kept, []byte("\n")) {
		if msg := secretCopy(string(l), key, assign); msg != "" {
			w = append(w, fmt.Sprintf("line %d: %s", i+1, msg))
		}
	}
	return w
}

// blankRanges replaces the bytes of the removed assignments by spaces,
// keeping "\n", so line numbers still match the input.
func blankRanges(input []byte, drop []envAssignment) []byte {
	out := bytes.Clone(input)
	for _, a := range drop {
		for i := a.start; i < a.end; i++ {
			if out[i] != '\n' {
				out[i] = ' '
			}
		}
	}
	return out
}

// secretCopy describes why a kept line matters, or returns "".
func secretCopy(line, key string, assign *regexp.Regexp) string {
	t := strings.TrimLeft(line, " \t")
	comment := strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
	hasAssign, hasValue := assign.MatchString(t), hsmKeyValue.MatchString(t)
	switch {
	case comment && hasAssign:
		return fmt.Sprintf("a commented-out line still holds a %s value", key)
	case comment && hasValue:
		return "a commented-out line holds what looks like an HSM key"
	case hasAssign:
		return fmt.Sprintf("%s= appears inside another value (systemd does not set %s from it, but it is a copy on disk)", key, key)
	case hasValue:
		return "another value holds what looks like an HSM key"
	}
	return ""
}
