package configedit

import "fmt"

// ErrorKind names why a config cannot be edited, so callers (and the
// plan's JSON) can tell "fix your file" cases apart without parsing text.
type ErrorKind string

// The kinds of Error. Each one is a file kmsctl refuses to edit rather
// than guess: an edit it cannot prove safe is never written.
const (
	// KindSyntax: the file is not valid YAML.
	KindSyntax ErrorKind = "syntax"
	// KindUnsupported: bytes kmsctl does not edit (not UTF-8, a byte order
	// mark, lone carriage returns, keys that do not start their line).
	KindUnsupported ErrorKind = "unsupported"
	// KindMultipleDocuments: more than one YAML document.
	KindMultipleDocuments ErrorKind = "multiple-documents"
	// KindNotMapping: the document, hsm or hsm.hashicorp is not a mapping.
	KindNotMapping ErrorKind = "not-mapping"
	// KindFlowStyle: the document, hsm or hsm.hashicorp is written in
	// flow style ({...}); editing it would mean reformatting it.
	KindFlowStyle ErrorKind = "flow-style"
	// KindAlias: anchors, aliases or merge keys reach the edited part.
	KindAlias ErrorKind = "alias"
	// KindDuplicateKey: a key the edit depends on appears twice.
	KindDuplicateKey ErrorKind = "duplicate-key"
	// KindTabs: tabs in the indentation of the edited part.
	KindTabs ErrorKind = "tabs"
	// KindBothSpellings: both hsm.vault and hsm.hashicorp.vault exist, so
	// kmsctl cannot know which one the node reads.
	KindBothSpellings ErrorKind = "both-spellings"
	// KindInvalidSettings: the wanted Vault settings are incomplete.
	KindInvalidSettings ErrorKind = "invalid-settings"
	// KindUnsafe: the edit was made but its self-check failed (the result
	// would differ outside the Vault block); nothing is returned.
	KindUnsafe ErrorKind = "unsafe-edit"
)

// Error is a config file kmsctl refuses to edit. Its text names lines
// and keys, never values, so it is safe to print and log.
type Error struct {
	Kind ErrorKind
	// Line is the 1-based line the problem is on, 0 when it is the file.
	Line   int
	Detail string
	Err    error
}

// Error says what is wrong and that the file was left alone.
func (e *Error) Error() string {
	s := "config"
	if e.Line > 0 {
		s = fmt.Sprintf("config line %d", e.Line)
	}
	s += ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s + " (" + string(e.Kind) + "; the file is not edited)"
}

// Unwrap exposes the underlying parse error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is lets callers test the kind: errors.Is(err, &Error{Kind: KindTabs}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

func cfgErr(kind ErrorKind, line int, format string, args ...any) *Error {
	return &Error{Kind: kind, Line: line, Detail: fmt.Sprintf(format, args...)}
}
