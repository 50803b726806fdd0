package envfile

import (
	"bytes"
	"regexp"
)

// redactedValue replaces secret values in printed diffs; it is the same
// marker configedit.Redact uses, so every redacted plan reads alike.
const redactedValue = "<redacted>"

// hsmKeyToken matches a whole local HSM key value, wherever it appears.
var hsmKeyToken = regexp.MustCompile(`hsm:(?:aes256|chacha20):[A-Za-z0-9+/=_-]*`)

// Redact returns a copy of an environment file with the value of every
// assignment of key (quoted, continued, exported or commented out) and
// anything shaped like an HSM key replaced by <redacted>, for printing
// diffs. A multi-line value becomes one line. It never fails: a file that
// RemoveKey refuses is still redacted line by line.
func Redact(b []byte, key string) []byte {
	out := bytes.Clone(b)
	if key == "" {
		return hsmKeyToken.ReplaceAll(out, []byte(redactedValue))
	}
	all := parseEnvFile(b)
	for i := len(all) - 1; i >= 0; i-- { // from the end: offsets stay valid
		a := all[i]
		if !holdsKey(a.key, key) {
			continue
		}
		from, stop := a.valueStart, a.end
		for from < stop && (out[from] == ' ' || out[from] == '\t') {
			from++
		}
		for stop > from && (out[stop-1] == '\n' || out[stop-1] == '\r') {
			stop--
		}
		out = append(out[:from], append([]byte(redactedValue), out[stop:]...)...)
	}
	line := regexp.MustCompile(`(\b` + regexp.QuoteMeta(key) + `\s*=[ \t]*)[^\r\n]*`)
	out = line.ReplaceAll(out, []byte("${1}"+redactedValue))
	return hsmKeyToken.ReplaceAll(out, []byte(redactedValue))
}
