// Package configedit is the key manager's YAML config editor: it reads,
// writes and compares the Vault HSM block (hsm.hashicorp.vault or
// hsm.vault) with every byte outside the block unchanged, redacts secrets
// for printing and renders diffs. It is pure (bytes in, bytes out) and
// imports no other kmsctl package, so the plan, the apply and the read-only
// checks all share one definition of "the Vault block is in place".
package configedit

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Result is a planned config edit. Output may hold the approle
// secret: print it only through Redact.
type Result struct {
	// Output is the whole new file; equal to the input when Changed is false.
	Output  []byte
	Changed bool
	// Path is the spelling the block is (or stays) at.
	Path BlockPath
	// Existing is the Vault block the file had before, nil when it had none
	// or it could not be read. It may hold a secret.
	Existing *VaultSettings
	// Warnings are things an operator should know before approving the
	// edit; they never contain values.
	Warnings []string
}

// Apply returns config bytes whose Vault HSM block holds want, with
// every byte outside that block unchanged. It keeps the spelling the file
// already uses, else uses prefer. It is pure and idempotent: applied to its
// own output it reports Changed=false and returns the same bytes. A file it
// cannot edit safely gives a *Error and no output.
func Apply(input []byte, want VaultSettings, prefer BlockPath) (Result, error) {
	if err := checkEditArgs(want, prefer); err != nil {
		return Result{}, err
	}
	d, err := parseConfig(input)
	if err != nil {
		return Result{}, err
	}
	if line, both := d.both(); both {
		return Result{}, cfgErr(KindBothSpellings, line, "both hsm.vault and hsm.hashicorp.vault are present; remove the one the node does not use")
	}
	res := Result{Path: prefer}
	if p, ok := d.existing(prefer.family()); ok {
		res.Path = p
		var same bool
		res.Existing, res.Warnings, same = d.review(p, want)
		if same {
			res.Output = bytes.Clone(input)
			return res, nil
		}
	}
	sp := d.splice(res.Path, want)
	out := joinCfgLines(spliceLines(d.lines, sp.from, sp.to, sp.texts, eolNear(d.lines, sp.eolAt)))
	if err := verifyConfigEdit(d, out, res.Path, want); err != nil {
		return Result{}, err
	}
	res.Output, res.Changed = out, !bytes.Equal(out, input)
	return res, nil
}

func checkEditArgs(want VaultSettings, prefer BlockPath) error {
	if prefer != BlockHashicorpVault && prefer != BlockVault && prefer != BlockOpenBao {
		return cfgErr(KindInvalidSettings, 0, "unknown block spelling %s", prefer)
	}
	if err := want.Validate(); err != nil {
		return &Error{Kind: KindInvalidSettings, Detail: "the wanted Vault settings are not usable", Err: err}
	}
	return nil
}

// review compares the existing block at p with want. same is true when the
// block already says exactly what is wanted, in which case the file is left
// alone even if it is formatted differently from kmsctl's rendering.
func (d *cfgDoc) review(p BlockPath, want VaultSettings) (existing *VaultSettings, warnings []string, same bool) {
	e := d.vault[p]
	s, unknown, err := decodeVaultNode(e.val)
	if err != nil {
		return nil, []string{fmt.Sprintf("the existing Vault block at %s (line %d) could not be read (%v); it is replaced", p, e.key.Line, err)}, false
	}
	if len(unknown) == 0 && s.Equal(want) {
		return &s, nil, true
	}
	warnings = append(warnings, fmt.Sprintf("the existing Vault block at %s (line %d) differs from the wanted settings; it is replaced", p, e.key.Line))
	if s.TLS != nil && want.TLS == nil {
		warnings = append(warnings, "the existing Vault block's tls settings are not among the wanted settings and are dropped")
	}
	if len(unknown) > 0 {
		warnings = append(warnings, fmt.Sprintf("the existing Vault block has keys kmsctl does not write, which are dropped: %s", strings.Join(unknown, ", ")))
	}
	if d.blockHasComments(e) {
		warnings = append(warnings, fmt.Sprintf("comments inside the existing Vault block at %s (line %d) are replaced with the block", p, e.key.Line))
	}
	return &s, warnings, false
}

// blockHasComments reports comment lines or trailing comments that a
// replacement of the block would remove.
func (d *cfgDoc) blockHasComments(e cfgEntry) bool {
	end := blockEnd(d.lines, e.line(), e.col())
	for i := e.line() + 1; i <= end; i++ {
		if lineComment(d.lines[i].text) {
			return true
		}
	}
	return hasLineComment(e.key) || hasLineComment(e.val)
}

// hasLineComment looks for "# ..." after a value on its own line. Head and
// foot comments are not asked for: the parser may attach comments that sit
// outside the block to them; full-line comments are counted from lines.
func hasLineComment(n *yaml.Node) bool {
	if n.LineComment != "" {
		return true
	}
	for _, c := range n.Content {
		if hasLineComment(c) {
			return true
		}
	}
	return false
}
