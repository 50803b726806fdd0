package migrate

import "fmt"

// ConfigErrorKind names why a config cannot be edited, so callers (and the
// plan's JSON) can tell "fix your file" cases apart without parsing text.
type ConfigErrorKind string

// The kinds of ConfigError. Each one is a file kmsctl refuses to edit rather
// than guess: an edit it cannot prove safe is never written.
const (
	// ConfigSyntax: the file is not valid YAML.
	ConfigSyntax ConfigErrorKind = "syntax"
	// ConfigUnsupported: bytes kmsctl does not edit (not UTF-8, a byte order
	// mark, lone carriage returns, keys that do not start their line).
	ConfigUnsupported ConfigErrorKind = "unsupported"
	// ConfigMultipleDocuments: more than one YAML document.
	ConfigMultipleDocuments ConfigErrorKind = "multiple-documents"
	// ConfigNotMapping: the document, hsm or hsm.hashicorp is not a mapping.
	ConfigNotMapping ConfigErrorKind = "not-mapping"
	// ConfigFlowStyle: the document, hsm or hsm.hashicorp is written in
	// flow style ({...}); editing it would mean reformatting it.
	ConfigFlowStyle ConfigErrorKind = "flow-style"
	// ConfigAlias: anchors, aliases or merge keys reach the edited part.
	ConfigAlias ConfigErrorKind = "alias"
	// ConfigDuplicateKey: a key the edit depends on appears twice.
	ConfigDuplicateKey ConfigErrorKind = "duplicate-key"
	// ConfigTabs: tabs in the indentation of the edited part.
	ConfigTabs ConfigErrorKind = "tabs"
	// ConfigBothSpellings: both hsm.vault and hsm.hashicorp.vault exist, so
	// kmsctl cannot know which one the node reads.
	ConfigBothSpellings ConfigErrorKind = "both-spellings"
	// ConfigInvalidSettings: the wanted Vault settings are incomplete.
	ConfigInvalidSettings ConfigErrorKind = "invalid-settings"
	// ConfigUnsafe: the edit was made but its self-check failed (the result
	// would differ outside the Vault block); nothing is returned.
	ConfigUnsafe ConfigErrorKind = "unsafe-edit"
)

// ConfigError is a config file kmsctl refuses to edit. Its text names lines
// and keys, never values, so it is safe to print and log.
type ConfigError struct {
	Kind ConfigErrorKind
	// Line is the 1-based line the problem is on, 0 when it is the file.
	Line   int
	Detail string
	Err    error
}

// Error says what is wrong and that the file was left alone.
func (e *ConfigError) Error() string {
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
func (e *ConfigError) Unwrap() error { return e.Err }

// Is lets callers test the kind: errors.Is(err, &ConfigError{Kind: ConfigTabs}).
func (e *ConfigError) Is(target error) bool {
	t, ok := target.(*ConfigError)
	return ok && t.Kind == e.Kind
}

func cfgErr(kind ConfigErrorKind, line int, format string, args ...any) *ConfigError {
	return &ConfigError{Kind: kind, Line: line, Detail: fmt.Sprintf(format, args...)}
}
