package configedit

import "go.yaml.in/yaml/v3"

// Inspection is what a config says about its Vault HSM block, for the
// read-only checks and for "already done" detection. Existing may hold a
// secret: never print it.
type Inspection struct {
	// AtHashicorpVault and AtVault say which spellings are present; both
	// true is a file Apply refuses.
	AtHashicorpVault bool
	AtVault          bool
	// AtOpenBao: the config has an hsm.openssf.openbao block.
	AtOpenBao bool
	// Path is the spelling of the existing block (meaningful when HasVault
	// is true; hsm.hashicorp.vault when both spellings are present).
	Path BlockPath
	// Existing is the block as read, nil when absent or unreadable.
	Existing *VaultSettings
	// Unknown lists keys of the existing block kmsctl does not write.
	Unknown []string
	// Problem says why an existing block could not be read.
	Problem string
	// OtherHSMs lists the other entries under hsm (e.g. "minio", "pkcs11").
	OtherHSMs []string
}

// Inspect reads a config without changing it. It fails on the files
// Apply refuses for their shape, except for having both spellings,
// which it reports.
func Inspect(input []byte) (Inspection, error) {
	d, err := parseConfig(input)
	if err != nil {
		return Inspection{}, err
	}
	ins := Inspection{
		AtHashicorpVault: d.vault[BlockHashicorpVault].found(),
		AtVault:          d.vault[BlockVault].found(),
		AtOpenBao:        d.vault[BlockOpenBao].found(),
		OtherHSMs:        d.otherHSMs(),
	}
	p, ok := d.existing([]BlockPath{BlockHashicorpVault, BlockVault, BlockOpenBao})
	if !ok {
		return ins, nil
	}
	ins.Path = p
	s, unknown, err := decodeVaultNode(d.vault[p].val)
	if err != nil {
		ins.Problem = err.Error()
		return ins, nil
	}
	ins.Existing, ins.Unknown = &s, unknown
	return ins, nil
}

// HasVault reports whether the config has an external HSM block: Vault at
// either spelling, or OpenBao. Without one, removing the local HSM key
// would leave the node no HSM; with one, the HSMs it brings are told apart
// from the local ones by difference.
func (i Inspection) HasVault() bool { return i.AtHashicorpVault || i.AtVault || i.AtOpenBao }

// Matches reports whether the config already holds exactly want, so that
// Apply would leave it unchanged.
func (i Inspection) Matches(want VaultSettings) bool {
	return i.Existing != nil && !(i.AtHashicorpVault && i.AtVault) && len(i.Unknown) == 0 && i.Existing.Equal(want)
}

// otherHSMs lists hsm's keys other than the Vault spellings; a hashicorp
// entry counts only when it holds more than vault.
func (d *cfgDoc) otherHSMs() []string {
	var out []string
	if !d.hsm.found() || !isMapping(d.hsm.val) {
		return nil
	}
	c := d.hsm.val.Content
	for i := 0; i+1 < len(c); i += 2 {
		switch k := c[i].Value; k {
		case "vault":
		case "hashicorp", "openssf":
			skip := map[string]string{"hashicorp": "vault", "openssf": "openbao"}[k]
			for _, o := range otherKeys(c[i+1], skip) {
				out = append(out, k+"."+o)
			}
		default:
			out = append(out, k)
		}
	}
	return out
}

func otherKeys(m *yaml.Node, skip string) []string {
	var out []string
	if !isMapping(m) {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; k != skip {
			out = append(out, k)
		}
	}
	return out
}
