// Package envfile reads and edits systemd EnvironmentFile= files (the
// key manager's /etc/default/minkms) with systemd's own quoting and
// continuation rules, so removing MINIO_KMS_HSM_KEY removes every copy
// systemd would read and nothing else. It is pure and imports no other
// kmsctl package.
package envfile

import (
	"bytes"
	"fmt"
	"strings"
)

// Result is a planned edit of a node's environment file. Output may
// still hold other secrets of the file; print it through Redact.
type Result struct {
	// Output is the whole new file: the input minus the removed lines.
	Output []byte
	// Removed counts the assignments removed (each may span several lines).
	Removed int
	// AlreadyAbsent is true when there was nothing to remove.
	AlreadyAbsent bool
	// Warnings name lines that still hold a copy of the key's value (or
	// look like they do); they never contain the value.
	Warnings []string
}

// Error is an environment file kmsctl will not edit or read. Its text
// names lines, never values.
type Error struct {
	Line   int
	Detail string
}

// Error says what is wrong and where.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("environment file line %d: %s", e.Line, e.Detail)
	}
	return "environment file: " + e.Detail
}

// RemoveKey removes every assignment of key, read with systemd's
// EnvironmentFile= rules: all physical lines of a quoted or continued value,
// every duplicate, and lines systemd ignores but that still hold the key
// ("export KEY=..."). Every other byte stays. It is idempotent.
func RemoveKey(input []byte, key string) (Result, error) {
	all, err := readEnv(input, key)
	if err != nil {
		return Result{}, err
	}
	var drop []envAssignment
	for _, a := range all {
		if !holdsKey(a.key, key) {
			continue
		}
		if a.unclosed {
			return Result{}, &Error{Line: a.line, Detail: fmt.Sprintf("the quoted value of %s is never closed, so its end is unknown", key)}
		}
		drop = append(drop, a)
	}
	res := Result{Output: cutRanges(input, drop), Removed: len(drop), AlreadyAbsent: len(drop) == 0}
	res.Warnings = envWarnings(input, all, drop, key)
	return res, nil
}

// HasKey reports whether systemd would set key from this file: some
// assignment of it with a valid name exists (the last one wins, and an
// empty value still sets the variable).
func HasKey(input []byte, key string) (bool, error) {
	all, err := readEnv(input, key)
	if err != nil {
		return false, err
	}
	_, ok := effectiveEnv(all)[key]
	return ok, nil
}

// effectiveEnv is the environment systemd builds: for each valid name, the
// value of its last assignment.
func effectiveEnv(all []envAssignment) map[string]string {
	env := map[string]string{}
	for _, a := range all {
		if a.valid() {
			env[a.key] = a.value
		}
	}
	return env
}

// readEnv checks the key and the file, then parses it.
func readEnv(input []byte, key string) ([]envAssignment, error) {
	if !(envAssignment{key: key}).valid() {
		return nil, &Error{Detail: fmt.Sprintf("%q is not a variable name", key)}
	}
	if i := bytes.IndexByte(input, 0); i >= 0 {
		return nil, &Error{Line: bytes.Count(input[:i], []byte("\n")) + 1, Detail: "a NUL byte (systemd stops reading there)"}
	}
	all := parseEnvFile(input)
	for _, a := range all {
		if !a.utf8OK() {
			return nil, &Error{Line: a.line, Detail: "invalid UTF-8 in an assignment (systemd refuses the whole file)"}
		}
	}
	return all, nil
}

// holdsKey is true for the key itself and for names systemd ignores whose
// last word is the key ("export KEY", "declare -x KEY").
func holdsKey(name, key string) bool {
	f := strings.Fields(name)
	return len(f) > 0 && f[len(f)-1] == key
}

// cutRanges returns input without the lines of the given assignments.
func cutRanges(input []byte, drop []envAssignment) []byte {
	out := make([]byte, 0, len(input))
	at := 0
	for _, a := range drop {
		out = append(out, input[at:a.start]...)
		at = a.end
	}
	return append(out, input[at:]...)
}
