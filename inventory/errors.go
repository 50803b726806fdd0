package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// FieldError is one problem in an inventory file. It carries the position and
// the field path so that an operator can jump straight to the line, and so
// that callers can tell inventory mistakes apart from I/O failures with
// errors.As.
type FieldError struct {
	// File is the inventory path as given to Load.
	File string
	// Line and Column are 1-based; both are always at least 1.
	Line   int
	Column int
	// Field is the path of the offending field, e.g. "nodes[1].ssh.port";
	// empty for problems of the document as a whole.
	Field string
	// Msg says what is wrong and, where it helps, what to write instead.
	Msg string
}

// Error formats the problem as "file:line:column: field: message", the form
// editors and CI log viewers turn into links.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Field, e.Msg)
}

// yamlLine finds the line number in a yaml.v3 syntax error message such as
// "yaml: line 3: mapping values are not allowed in this context".
var yamlLine = regexp.MustCompile(`line (\d+)`)

// SyntaxError turns a YAML parser error into a FieldError with a usable
// position (line 1 when the parser did not name one). A tab in the
// indentation, which YAML forbids and yaml.v3 reports obscurely, is named
// plainly. Shared by every YAML file kmsctl reads.
func SyntaxError(file string, data []byte, err error) *FieldError {
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
	}
	if tab := firstTabIndent(data); tab > 0 && tab >= line-1 && tab <= line+1 {
		return &FieldError{File: file, Line: tab, Column: 1, Msg: "a tab in the indentation: YAML allows only spaces there (replace the tab with spaces)"}
	}
	return &FieldError{File: file, Line: line, Column: 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// firstTabIndent returns the 1-based line of the first line whose
// indentation holds a tab, 0 when none.
func firstTabIndent(data []byte) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "\t") {
			return i + 1
		}
	}
	return 0
}
