package configedit

import "strings"

// renderVaultLines renders the Vault block as lines without line ends:
// first the keys that lead to it (e.g. "hashicorp", "vault"), each one level
// deeper, then the settings in their fixed order. col is the column of the
// first key, unit the indentation step. The output depends on nothing but
// its arguments, which is what makes Apply idempotent.
func renderVaultLines(keys []string, s VaultSettings, col, unit int) []string {
	pad := func(depth int) string { return strings.Repeat(" ", col+depth*unit) }
	out := make([]string, 0, len(keys)+16)
	for i, k := range keys {
		out = append(out, pad(i)+k+":")
	}
	for _, f := range s.fields() {
		depth := len(keys) + strings.Count(f.name, ".")
		leaf := f.name[strings.LastIndex(f.name, ".")+1:]
		if f.value == "" {
			out = append(out, pad(depth)+leaf+":")
			continue
		}
		out = append(out, pad(depth)+leaf+": "+yamlScalar(f.value))
	}
	return out
}
