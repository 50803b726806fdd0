package configedit

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// yamlScalar renders a string value for the Vault block: plain when every
// YAML reader (1.1 and 1.2 resolvers alike) reads it back as the same string,
// double-quoted otherwise. Plain values keep the block looking hand written;
// quoting whenever in doubt keeps it correct.
func yamlScalar(s string) string {
	if plainSafe(s) {
		return s
	}
	return doubleQuoted(s)
}

// plainSafe reports whether s can be written as a plain scalar.
func plainSafe(s string) bool {
	if s == "" || s != strings.TrimSpace(s) {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	for _, r := range s {
		if r != ' ' && (!unicode.IsPrint(r) || r == '\uFEFF') {
			return false
		}
	}
	return resolvesToString(s) && !yaml11NonString(s)
}

// resolvesToString asks the YAML library this product's readers use.
func resolvesToString(s string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("v: "+s+"\n"), &n); err != nil {
		return false
	}
	if len(n.Content) != 1 || len(n.Content[0].Content) != 2 {
		return false
	}
	v := n.Content[0].Content[1]
	return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value == s
}

// yaml11Words are the YAML 1.1 booleans and nulls that YAML 1.2 reads as
// strings; some readers still use 1.1 rules, so they are quoted.
var yaml11Words = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true,
}

// yaml11Number matches YAML 1.1 ints and floats (binary, octal, sexagesimal,
// underscores) that YAML 1.2 would read as strings.
var yaml11Number = regexp.MustCompile(`^(?:` +
	`[-+]?0b[01_]+` +
	`|[-+]?0[0-7_]+` +
	`|[-+]?(?:0|[1-9][0-9_]*)` +
	`|[-+]?0x[0-9a-fA-F_]+` +
	`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?` +
	`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|=|<<)$`)

func yaml11NonString(s string) bool {
	return yaml11Words[strings.ToLower(s)] || yaml11Number.MatchString(s)
}

// doubleQuoted writes s as a YAML double-quoted scalar, escaping what YAML
// requires and every non-printable character.
func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, r)
		case !unicode.IsPrint(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08X`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
