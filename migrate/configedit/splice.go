package configedit

// cfgSplice is one planned edit: lines [from, to) become texts. eolAt is the
// line whose line end the new lines copy.
type cfgSplice struct {
	from, to int
	texts    []string
	eolAt    int
}

// splice plans the edit for a block at path: replace the existing block, or
// append it to hsm.hashicorp, to hsm, or to the document, whichever exists.
func (d *cfgDoc) splice(path BlockPath, want VaultSettings) cfgSplice {
	if v := d.vault[path]; v.found() {
		end := blockEnd(d.lines, v.line(), v.col())
		return cfgSplice{from: v.line(), to: end + 1, texts: renderVaultLines([]string{path.leaf()}, want, v.col(), d.indent), eolAt: v.line()}
	}
	if path == BlockHashicorpVault && d.hashi.found() {
		return d.appendTo(d.hashi, []string{"vault"}, want)
	}
	if path == BlockOpenBao && d.openssf.found() {
		return d.appendTo(d.openssf, []string{"openbao"}, want)
	}
	if d.hsm.found() {
		return d.appendTo(d.hsm, path.keys()[1:], want)
	}
	return d.appendTop(path.keys(), want)
}

// appendTo adds keys and the block as the last entry of the mapping under
// parent, after any comments indented into it.
func (d *cfgDoc) appendTo(parent cfgEntry, keys []string, want VaultSettings) cfgSplice {
	end := blockEnd(d.lines, parent.line(), parent.col())
	col := parent.col() + d.indent
	if v := parent.val; isMapping(v) && len(v.Content) > 0 {
		col = v.Content[0].Column - 1
	}
	return cfgSplice{from: end + 1, to: end + 1, texts: renderVaultLines(keys, want, col, d.indent), eolAt: end}
}

// appendTop adds a new hsm section after the document's last entry,
// separated by a blank line when the file separates its sections so.
func (d *cfgDoc) appendTop(keys []string, want VaultSettings) cfgSplice {
	last := d.root.Content[len(d.root.Content)-2]
	line, col := last.Line-1, last.Column-1
	end := blockEnd(d.lines, line, col)
	texts := renderVaultLines(keys, want, col, d.indent)
	if d.blankBetweenSections() && !lineBlank(d.lines[end].text) {
		texts = append([]string{""}, texts...)
	}
	return cfgSplice{from: end + 1, to: end + 1, texts: texts, eolAt: end}
}

// blankBetweenSections reports whether some top-level key after the first
// is preceded by a blank line (above its own comments, if any).
func (d *cfgDoc) blankBetweenSections() bool {
	for i := 2; i < len(d.root.Content); i += 2 {
		j := d.root.Content[i].Line - 2
		for j >= 0 && lineComment(d.lines[j].text) {
			j--
		}
		if j >= 0 && lineBlank(d.lines[j].text) {
			return true
		}
	}
	return false
}
