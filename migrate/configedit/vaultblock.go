package configedit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// VaultSettings is what kmsctl writes into a node's Vault HSM block. It is
// the single source of the block's content, so a plan, an apply and a
// verification all agree on what "the Vault block is in place" means.
type VaultSettings struct {
	// Server is the Vault address, e.g. https://vault.example.net:8200.
	Server string
	// AppRole is set when the node logs in with an approle; exactly one of
	// AppRole and Kubernetes is set.
	AppRole *AppRole
	// Kubernetes is set when the node logs in with a service account token.
	Kubernetes *Kubernetes
	// Transit names the transit key that seals the node's root key.
	Transit Transit
	// TLS is optional: only for nodes that need a private CA or a client
	// certificate to reach Vault.
	TLS *VaultTLS
}

// AppRole is the approle login of a node. Secret is the secret ID, never its
// accessor: the node logs in with it.
type AppRole struct {
	ID        string
	Secret    string
	Namespace string
	Path      string
}

// Kubernetes is the kubernetes login of a node. JWT is a token or the path
// of a file that holds one.
type Kubernetes struct {
	Role      string
	JWT       string
	Namespace string
	Path      string
}

// Transit is the transit engine key that wraps the node's root key.
type Transit struct {
	Key       string
	Namespace string
	Path      string
}

// VaultTLS holds the optional TLS files a node uses to reach Vault.
type VaultTLS struct {
	CA   string
	Cert string
	Key  string
}

// The mounts a block that names none is read with: the defaults of the key
// manager's Vault block (docs/design.md). They live here, next to the one
// settings type, so the Vault check tests exactly the mounts the nodes use.
const (
	DefaultAppRolePath    = "approle"
	DefaultKubernetesPath = "kubernetes"
	DefaultTransitPath    = "transit"
)

// MountPath is the approle auth mount the node logs in at.
func (a AppRole) MountPath() string { return mountPath(a.Path, DefaultAppRolePath) }

// MountPath is the kubernetes auth mount the node logs in at.
func (k Kubernetes) MountPath() string { return mountPath(k.Path, DefaultKubernetesPath) }

// MountPath is the transit engine mount that holds the sealing key.
func (t Transit) MountPath() string { return mountPath(t.Path, DefaultTransitPath) }

// mountPath trims slashes and applies the default.
func mountPath(p, def string) string {
	if p = strings.Trim(p, "/"); p == "" {
		return def
	}
	return p
}

// Validate reports settings that would make a block the key manager cannot
// use. Its messages name fields, never values, so they are safe to print.
func (s VaultSettings) Validate() error {
	var missing []string
	if s.Server == "" {
		missing = append(missing, "server")
	}
	switch {
	case s.AppRole != nil && s.Kubernetes != nil:
		return fmt.Errorf("vault settings: both approle and kubernetes are set; choose one")
	case s.AppRole != nil:
		missing = appendMissing(missing, "approle.id", s.AppRole.ID)
		missing = appendMissing(missing, "approle.secret", s.AppRole.Secret)
	case s.Kubernetes != nil:
		missing = appendMissing(missing, "kubernetes.role", s.Kubernetes.Role)
		missing = appendMissing(missing, "kubernetes.jwt", s.Kubernetes.JWT)
	default:
		missing = append(missing, "approle or kubernetes")
	}
	missing = appendMissing(missing, "transit.key", s.Transit.Key)
	if len(missing) > 0 {
		return fmt.Errorf("vault settings: missing %v", missing)
	}
	for _, f := range s.fields() {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("vault settings: %s is not valid UTF-8", f.name)
		}
	}
	return nil
}

func appendMissing(missing []string, name, value string) []string {
	if value == "" {
		return append(missing, name)
	}
	return missing
}

// Equal reports whether two settings would render the same block.
func (s VaultSettings) Equal(o VaultSettings) bool {
	a, b := s.fields(), o.fields()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// vaultField is one leaf of the block: its dotted name and its value.
type vaultField struct {
	name, value string
}

// fields lists the set leaves in the block's fixed order. The renderer, the
// comparison and the validation all walk this one list.
func (s VaultSettings) fields() []vaultField {
	var f []vaultField
	add := func(name, value string) {
		if value != "" {
			f = append(f, vaultField{name, value})
		}
	}
	add("server", s.Server)
	if a := s.AppRole; a != nil {
		f = append(f, vaultField{"approle", ""})
		add("approle.id", a.ID)
		add("approle.secret", a.Secret)
		add("approle.namespace", a.Namespace)
		add("approle.path", a.Path)
	}
	if k := s.Kubernetes; k != nil {
		f = append(f, vaultField{"kubernetes", ""})
		add("kubernetes.role", k.Role)
		add("kubernetes.jwt", k.JWT)
		add("kubernetes.namespace", k.Namespace)
		add("kubernetes.path", k.Path)
	}
	f = append(f, vaultField{"transit", ""})
	add("transit.key", s.Transit.Key)
	add("transit.namespace", s.Transit.Namespace)
	add("transit.path", s.Transit.Path)
	if t := s.TLS; t != nil && *t != (VaultTLS{}) {
		f = append(f, vaultField{"tls", ""})
		add("tls.ca", t.CA)
		add("tls.cert", t.Cert)
		add("tls.key", t.Key)
	}
	return f
}

// BlockPath is where a config holds its Vault HSM block. The published
// documentation and MinIO's chart disagree on the spelling, so kmsctl keeps
// whichever one a node already uses.
type BlockPath int

const (
	// BlockHashicorpVault is hsm.hashicorp.vault, the default: the seed
	// page's prose and MinIO's Helm chart use it.
	BlockHashicorpVault BlockPath = iota
	// BlockVault is hsm.vault, the spelling of the seed page's example.
	BlockVault
	// BlockOpenBao is hsm.openssf.openbao: the product's OpenBao HSM, with
	// the Vault block's fields (OpenBao's transit API is Vault's). It is
	// another HSM, not a spelling: a Vault block never stands for it.
	BlockOpenBao
)

// String returns the dotted spelling, as used by --vault-block.
func (p BlockPath) String() string {
	switch p {
	case BlockHashicorpVault:
		return "hsm.hashicorp.vault"
	case BlockVault:
		return "hsm.vault"
	case BlockOpenBao:
		return "hsm.openssf.openbao"
	}
	return fmt.Sprintf("BlockPath(%d)", int(p))
}

// ParseBlockPath reads a --vault-block value.
func ParseBlockPath(s string) (BlockPath, error) {
	switch s {
	case "hsm.hashicorp.vault":
		return BlockHashicorpVault, nil
	case "hsm.vault":
		return BlockVault, nil
	case "hsm.openssf.openbao":
		return BlockOpenBao, nil
	}
	return 0, fmt.Errorf("vault block %q: want hsm.hashicorp.vault, hsm.vault or hsm.openssf.openbao", s)
}

// keys is the path of mapping keys from the document root to the block.
func (p BlockPath) keys() []string {
	switch p {
	case BlockVault:
		return []string{"hsm", "vault"}
	case BlockOpenBao:
		return []string{"hsm", "openssf", "openbao"}
	}
	return []string{"hsm", "hashicorp", "vault"}
}

// leaf is the block's own key (vault, openbao).
func (p BlockPath) leaf() string { k := p.keys(); return k[len(k)-1] }

// family lists the spellings of the same HSM, the existing one of which an
// edit keeps: the two Vault spellings, or OpenBao alone.
func (p BlockPath) family() []BlockPath {
	if p == BlockOpenBao {
		return []BlockPath{BlockOpenBao}
	}
	return []BlockPath{BlockHashicorpVault, BlockVault}
}
