package configedit

import (
	"go.yaml.in/yaml/v3"
)

// verifyConfigEdit re-reads an edited file and proves the edit did only what
// it should: the file parses, its Vault block at path says exactly want, and
// with the Vault blocks taken out both files mean the same YAML. Line
// splicing is exact for the files kmsctl accepts; this check turns any case
// it missed into a refusal instead of a wrong file.
func verifyConfigEdit(before *cfgDoc, out []byte, path BlockPath, want VaultSettings) error {
	after, err := parseConfig(out)
	if err != nil {
		return &Error{Kind: KindUnsafe, Detail: "the edited file would not be readable", Err: err}
	}
	v := after.vault[path]
	if !v.found() {
		return cfgErr(KindUnsafe, 0, "the edited file has no block at %s", path)
	}
	got, unknown, err := decodeVaultNode(v.val)
	if err != nil || len(unknown) > 0 || !got.Equal(want) {
		return cfgErr(KindUnsafe, v.key.Line, "the edited Vault block would not read back as written")
	}
	if !yamlEqual(withoutBlock(before.root, path.keys()), withoutBlock(after.root, path.keys())) {
		return cfgErr(KindUnsafe, 0, "the edit would change the file outside the Vault block")
	}
	return nil
}

// withoutBlock returns a copy of a top-level mapping without the edited
// block, and without its parents (hsm.hashicorp or hsm.openssf, hsm) when
// that leaves them empty: what must stay the same across an edit.
func withoutBlock(root *yaml.Node, keys []string) *yaml.Node {
	return filterMapping(root, func(k, v *yaml.Node) *yaml.Node {
		if k.Value != keys[0] {
			return v
		}
		if len(keys) == 1 {
			return nil
		}
		return emptyToNil(withoutBlock(v, keys[1:]))
	})
}

// filterMapping copies a mapping, replacing each value by keep(key, value)
// and dropping the entry when keep returns nil. Other nodes pass unchanged.
func filterMapping(m *yaml.Node, keep func(k, v *yaml.Node) *yaml.Node) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return m
	}
	c := *m
	c.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := keep(m.Content[i], m.Content[i+1]); v != nil {
			c.Content = append(c.Content, m.Content[i], v)
		}
	}
	return &c
}

func emptyToNil(n *yaml.Node) *yaml.Node {
	if isEmptyNull(n) || (n.Kind == yaml.MappingNode && len(n.Content) == 0) {
		return nil
	}
	return n
}

// yamlEqual compares meaning, not layout: kinds, resolved tags, values,
// anchors and structure. Positions, styles and comments are ignored.
func yamlEqual(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Anchor != b.Anchor || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !yamlEqual(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
