package standin

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LineError is a parse error tied to a line of a YAML file, so that the log
// tells the operator (and kmsctl's tests) exactly which edit was wrong.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func lineErr(n *yaml.Node, format string, args ...any) error {
	return &LineError{Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// entry is one key/value pair of a YAML mapping.
type entry struct {
	key, val *yaml.Node
}

// documentRoot returns the top-level node of a parsed YAML document.
func documentRoot(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &LineError{Line: 1, Msg: "empty document"}
	}
	return doc.Content[0], nil
}

// isNull reports whether n is an empty value (`key:` with nothing after it).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mapping returns the entries of the mapping n (named path) after checking
// that every key is allowed and appears once. A null value is an empty mapping.
// hint, if not nil, adds context to the message of an unknown key.
func mapping(n *yaml.Node, path string, allowed []string, hint func(key string) string) (map[string]entry, error) {
	out := map[string]entry{}
	if isNull(n) {
		return out, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, lineErr(n, "%s must be a mapping", displayPath(path))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := joinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode || !slices.Contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q", full)
			if hint != nil {
				if h := hint(k.Value); h != "" {
					msg += " (" + h + ")"
				}
			}
			return nil, &LineError{Line: k.Line, Msg: msg}
		}
		if _, dup := out[k.Value]; dup {
			return nil, lineErr(k, "duplicate key %q", full)
		}
		out[k.Value] = entry{key: k, val: v}
	}
	return out, nil
}

// scalar returns the string value of e, which must be a non-empty scalar.
func scalar(e entry, path string) (string, error) {
	if e.val.Kind != yaml.ScalarNode || isNull(e.val) {
		return "", lineErr(e.key, "%s must be a non-empty string", path)
	}
	v := strings.TrimSpace(e.val.Value)
	if v == "" {
		return "", lineErr(e.key, "%s must be a non-empty string", path)
	}
	return v, nil
}

// optScalar returns the value of the optional scalar key in m, or "".
func optScalar(m map[string]entry, path, key string) (string, error) {
	e, ok := m[key]
	if !ok {
		return "", nil
	}
	return scalar(e, joinPath(path, key))
}

// reqScalar returns the value of the required scalar key in m. parent is the
// node that should contain it, for the line number of a missing key.
func reqScalar(m map[string]entry, parent *yaml.Node, path, key string) (string, error) {
	e, ok := m[key]
	if !ok {
		return "", lineErr(parent, "missing required key %q", joinPath(path, key))
	}
	return scalar(e, joinPath(path, key))
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func displayPath(path string) string {
	if path == "" {
		return "the document"
	}
	return path
}
