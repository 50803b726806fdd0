package configedit

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// cfgDoc is a config parsed for editing: its lines, and the YAML nodes that
// say where the hsm section and its Vault block are. The nodes only locate;
// every edit is a splice of lines, so nothing outside the block is
// re-rendered.
type cfgDoc struct {
	lines   []cfgLine
	root    *yaml.Node // the top-level mapping
	hsm     cfgEntry
	hashi   cfgEntry    // hsm.hashicorp
	openssf cfgEntry    // hsm.openssf
	vault   [3]cfgEntry // indexed by BlockPath
	indent  int         // indentation unit for new lines
}

// cfgEntry is one key of a mapping and its value; zero when absent.
type cfgEntry struct {
	key, val *yaml.Node
}

func (e cfgEntry) found() bool { return e.key != nil }

// line and col are 0-based positions of the key, for the line splicer.
func (e cfgEntry) line() int { return e.key.Line - 1 }
func (e cfgEntry) col() int  { return e.key.Column - 1 }

// parseConfig reads a config and locates its hsm section, refusing every
// shape it could not edit by splicing lines. Having both spellings is not
// refused here: Inspect reports it, Apply refuses it.
func parseConfig(b []byte) (*cfgDoc, error) {
	if err := checkCfgBytes(b); err != nil {
		return nil, err
	}
	root, err := decodeSingleDoc(b)
	if err != nil {
		return nil, err
	}
	d := &cfgDoc{lines: splitCfgLines(b), root: root}
	if err := d.locate(); err != nil {
		return nil, err
	}
	if err := d.checkTabs(); err != nil {
		return nil, err
	}
	if err := decodesStrictly(root); err != nil {
		return nil, err
	}
	d.indent = d.detectIndent()
	return d, nil
}

// checkCfgBytes refuses encodings whose line or column numbers would not
// match the bytes the splicer works on.
func checkCfgBytes(b []byte) error {
	switch {
	case !utf8.Valid(b):
		return cfgErr(KindUnsupported, 0, "the file is not UTF-8")
	case bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")):
		return cfgErr(KindUnsupported, 1, "the file starts with a byte order mark")
	case hasLoneCR(b):
		return cfgErr(KindUnsupported, 0, "the file has carriage returns that do not end a CRLF line")
	}
	return nil
}

// decodeSingleDoc returns the top-level mapping of the only document.
func decodeSingleDoc(b []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, cfgErr(KindSyntax, 0, "the YAML parser failed on this file")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, cfgErr(KindNotMapping, 0, "the file holds no YAML document")
		}
		return nil, &Error{Kind: KindSyntax, Detail: "not valid YAML", Err: err}
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return nil, cfgErr(KindMultipleDocuments, more.Line, "the file holds more than one YAML document")
	case !errors.Is(err, io.EOF):
		return nil, &Error{Kind: KindSyntax, Detail: "not valid YAML", Err: err}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, cfgErr(KindNotMapping, doc.Line, "the document is not a mapping of keys")
	}
	root = doc.Content[0]
	if root.Style&yaml.FlowStyle != 0 {
		return nil, cfgErr(KindFlowStyle, root.Line, "the document is written in flow style ({...})")
	}
	return root, nil
}

// decodesStrictly refuses documents a Go reader of the config would reject
// (duplicate keys, bad tagged values): an edit must not start from a file
// the key manager could not read. yaml's message can quote values, so only
// its line number is kept.
func decodesStrictly(root *yaml.Node) error {
	var v any
	err := root.Decode(&v)
	if err == nil {
		return nil
	}
	line := 0
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	return cfgErr(KindSyntax, line, "the file does not decode as the key manager would read it (a duplicate key or a bad tagged value)")
}

var yamlErrLine = regexp.MustCompile(`line (\d+):`)

// locate finds hsm, hsm.hashicorp and the Vault blocks and checks that each
// of them can be edited as lines.
func (d *cfgDoc) locate() error {
	var err error
	if d.hsm, err = d.section(d.root, "hsm"); err != nil {
		return err
	}
	if !d.hsm.found() {
		if hasMergeKey(d.root) {
			return cfgErr(KindAlias, d.root.Line, "no hsm key, but a merge key (<<) at the top level may bring one")
		}
		return d.keyStartsLine(d.root.Content[len(d.root.Content)-2])
	}
	if isMapping(d.hsm.val) {
		if d.hashi, err = d.section(d.hsm.val, "hashicorp"); err != nil {
			return err
		}
		if d.openssf, err = d.section(d.hsm.val, "openssf"); err != nil {
			return err
		}
		if d.vault[BlockVault], err = d.block(d.hsm.val, BlockVault); err != nil {
			return err
		}
	}
	if d.hashi.found() && isMapping(d.hashi.val) {
		if d.vault[BlockHashicorpVault], err = d.block(d.hashi.val, BlockHashicorpVault); err != nil {
			return err
		}
	}
	if d.openssf.found() && isMapping(d.openssf.val) {
		d.vault[BlockOpenBao], err = d.block(d.openssf.val, BlockOpenBao)
	}
	return err
}

// section finds a mapping key the edit may insert into (hsm, hashicorp): it
// must be unique, start its line, carry no anchor or alias, and hold a
// block mapping or nothing.
func (d *cfgDoc) section(m *yaml.Node, name string) (cfgEntry, error) {
	e, err := uniqueKey(m, name)
	if err != nil || !e.found() {
		return e, err
	}
	if err := d.keyStartsLine(e.key); err != nil {
		return e, err
	}
	switch v := e.val; {
	case e.key.Anchor != "" || v.Anchor != "" || v.Kind == yaml.AliasNode:
		return e, cfgErr(KindAlias, e.key.Line, "%s carries an anchor or is an alias", name)
	case isEmptyNull(v):
		return e, nil
	case v.Kind != yaml.MappingNode:
		return e, cfgErr(KindNotMapping, e.key.Line, "%s is not a mapping", name)
	case v.Style&yaml.FlowStyle != 0:
		return e, cfgErr(KindFlowStyle, e.key.Line, "%s is written in flow style ({...})", name)
	case hasMergeKey(v):
		return e, cfgErr(KindAlias, e.key.Line, "%s holds a merge key (<<)", name)
	}
	return e, nil
}

// block finds an existing Vault block, which the edit replaces whole.
func (d *cfgDoc) block(m *yaml.Node, p BlockPath) (cfgEntry, error) {
	name := p.String()
	e, err := uniqueKey(m, p.leaf())
	if err != nil || !e.found() {
		return e, err
	}
	if hasAnchorOrAlias(e.key) || hasAnchorOrAlias(e.val) {
		return e, cfgErr(KindAlias, e.key.Line, "the Vault block %s holds anchors or aliases", name)
	}
	return e, d.keyStartsLine(e.key)
}

// keyStartsLine refuses keys that share their line with something before
// them ("? key", "- key"), since the splicer works on whole lines.
func (d *cfgDoc) keyStartsLine(k *yaml.Node) error {
	i, c := k.Line-1, k.Column-1
	if i < 0 || i >= len(d.lines) || c > len(d.lines[i].text) || !lineBlank(d.lines[i].text[:c]) {
		return cfgErr(KindUnsupported, k.Line, "the key %q does not start its line", k.Value)
	}
	return nil
}

// checkTabs refuses tabs in the indentation of the lines the edit reads.
func (d *cfgDoc) checkTabs() error {
	k := d.root.Content[len(d.root.Content)-2]
	if d.hsm.found() {
		k = d.hsm.key
	}
	if n := tabIndented(d.lines, k.Line-1, blockEnd(d.lines, k.Line-1, k.Column-1)); n > 0 {
		return cfgErr(KindTabs, n, "a tab in the indentation near the hsm section")
	}
	return nil
}

// uniqueKey finds a plain string key in a mapping and refuses duplicates:
// YAML readers disagree on which one wins.
func uniqueKey(m *yaml.Node, name string) (cfgEntry, error) {
	var e cfgEntry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value != name || k.ShortTag() != "!!str" {
			continue
		}
		if e.found() {
			return e, cfgErr(KindDuplicateKey, k.Line, "the key %s appears twice (first on line %d)", name, e.key.Line)
		}
		e = cfgEntry{key: k, val: m.Content[i+1]}
	}
	return e, nil
}

func isMapping(n *yaml.Node) bool { return n.Kind == yaml.MappingNode }

// isEmptyNull is a key written with no value at all ("hsm:").
func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" && n.Style == 0
}

func hasMergeKey(m *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			return true
		}
	}
	return false
}

func hasAnchorOrAlias(n *yaml.Node) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAnchorOrAlias(c) {
			return true
		}
	}
	return false
}

// both reports the line of the second spelling when a file has both.
func (d *cfgDoc) both() (int, bool) {
	a, b := d.vault[BlockHashicorpVault], d.vault[BlockVault]
	if !a.found() || !b.found() {
		return 0, false
	}
	return max(a.key.Line, b.key.Line), true
}

// existing returns the spelling of the block the file already has, among
// the given spellings of one HSM (BlockPath.family).
func (d *cfgDoc) existing(among []BlockPath) (BlockPath, bool) {
	for _, p := range among {
		if d.vault[p].found() {
			return p, true
		}
	}
	return 0, false
}
