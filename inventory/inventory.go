// Package inventory reads and checks the file that tells kmsctl which key
// manager nodes exist, how to reach them over SSH, where their files live and
// which Vault they should seal with. Every problem is reported with its file,
// line, column and field path, all at once, so an operator fixes the file in
// one pass instead of one error per run.
package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
)

// Defaults applied when neither the node nor node_defaults set a value. They
// follow the key manager's documented installation.
const (
	DefaultConfig     = "/etc/minkms/config.yaml"
	DefaultEnvFile    = "/etc/default/minkms"
	DefaultUnit       = "minkms"
	DefaultAPI        = "https://127.0.0.1:7373"
	DefaultBackupDir  = "/var/lib/kmsctl/backups"
	DefaultSSHPort    = 22
	DefaultKnownHosts = "~/.ssh/known_hosts"
)

// Vault block spellings the key manager's config may use for the Vault HSM.
const (
	VaultBlockHashiCorp = "hsm.hashicorp.vault"
	VaultBlockShort     = "hsm.vault"
	// VaultBlockOpenBao is the product's OpenBao HSM block, Vault's fields.
	VaultBlockOpenBao = "hsm.openssf.openbao"
)

// SSH holds how to log in to a node. In the file every field is optional;
// after Nodes() resolves defaults, Port, User, KnownHosts and Sudo are set.
type SSH struct {
	User             string `json:"user"`
	Port             int    `json:"port"`
	IdentityFile     string `json:"identity_file,omitempty"`
	KnownHosts       string `json:"known_hosts"`
	Sudo             bool   `json:"sudo"`
	ProxyJump        string `json:"proxy_jump,omitempty"`
	SudoPasswordFile string `json:"sudo_password_file,omitempty"`
	// SSHConfig is an OpenSSH client config file for this node ("" means
	// the operator's default, ~/.ssh/config or --ssh-config).
	SSHConfig string `json:"ssh_config,omitempty"`
	// Explicit says which values the file wrote, so that the OpenSSH client
	// config fills only the others (the inventory wins where it sets a value).
	Explicit Explicit `json:"-"`
}

// Explicit records which SSH values an inventory wrote (for a node or in the
// top-level ssh section), as opposed to defaults.
type Explicit struct {
	User, Port, IdentityFile, KnownHosts bool
}

// Settings are the per-node paths and endpoints of the key manager, settable
// in node_defaults and overridable per node.
type Settings struct {
	// Config is the key manager's config file on the node.
	Config string `json:"config"`
	// EnvFile is the systemd EnvironmentFile holding MINIO_KMS_HSM_KEY.
	EnvFile string `json:"env_file"`
	// Unit is the systemd unit name (".service" may be omitted).
	Unit string `json:"unit"`
	// API is the key manager API as seen from the node itself.
	API string `json:"api"`
	// APICACert is an operator-local CA file for the node API certificate;
	// empty means the system roots.
	APICACert string `json:"api_ca_cert,omitempty"`
	// APIServerName overrides the TLS server name checked on the API.
	APIServerName string `json:"api_server_name,omitempty"`
	// BackupDir is where file backups go on the node.
	BackupDir string `json:"backup_dir"`
	// VaultBlock is the spelling of the Vault HSM block; empty means detect
	// the node's own spelling and keep it.
	VaultBlock string `json:"vault_block,omitempty"`
	// ConfigSet and EnvFileSet say the inventory names these paths itself
	// (not the defaults): a unit that uses other paths is then refused
	// rather than followed.
	ConfigSet  bool `json:"-"`
	EnvFileSet bool `json:"-"`
}

// Node is one key manager node with every default applied.
type Node struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// HostName is the address as the network knows it: the ssh_config
	// HostName when Address is a host alias, else Address. It identifies the
	// node in the key manager's cluster view.
	HostName string `json:"-"`
	SSH      SSH    `json:"ssh"`
	Settings
}

// Vault is where the nodes' sealing key lives and how the nodes log in to it.
type Vault struct {
	Server        string      `json:"server"`
	CACert        string      `json:"ca_cert,omitempty"`
	TLSServerName string      `json:"tls_server_name,omitempty"`
	AppRole       *AppRole    `json:"approle,omitempty"`
	Kubernetes    *Kubernetes `json:"kubernetes,omitempty"`
	Transit       Transit     `json:"transit"`
}

// AppRole is the Vault AppRole login the nodes use. The secret id is never
// stored here: it comes from SecretFile or SecretEnv (see Secret).
type AppRole struct {
	ID         string `json:"id"`
	SecretFile string `json:"secret_file,omitempty"`
	SecretEnv  string `json:"secret_env,omitempty"`
	Path       string `json:"path,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
}

// Secret describes where the AppRole secret id comes from.
func (a *AppRole) Secret() Secret {
	return Secret{Name: "vault.approle secret id", File: a.SecretFile, Env: a.SecretEnv}
}

// Kubernetes is the Vault Kubernetes login the nodes use.
type Kubernetes struct {
	Role string `json:"role"`
	// JWT is the token file path on the node, written into the node's config.
	JWT string `json:"jwt"`
	// JWTFile is an operator-local copy of the token for preflight checks.
	JWTFile   string `json:"jwt_file,omitempty"`
	Path      string `json:"path,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Transit names the sealing key.
type Transit struct {
	Key       string `json:"key"`
	Path      string `json:"path,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Inventory is a checked inventory file.
type Inventory struct {
	// File is the path it was loaded from.
	File string
	// Version is the format version ("v1").
	Version string
	// Vault is nil when the file has no vault section (status needs none).
	Vault *Vault

	ssh      rawSSH
	defaults rawSettings
	nodes    []rawNode
	locals   []LocalFile
	hostName func(Node) string
	digest   [sha256.Size]byte
}

// Load reads and checks the inventory at path. Problems in the file are
// returned together as errors.Join of *FieldError values.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse checks inventory bytes; file is used in messages and to resolve
// relative operator-local paths (against its directory).
func Parse(file string, data []byte) (*Inventory, error) {
	d := newDecoder(file)
	inv := d.document(data)
	if err := d.err(); err != nil {
		return nil, err
	}
	inv.File = file
	inv.locals = d.locals
	inv.digest = sha256.Sum256(data)
	return inv, nil
}

// Digest is the SHA-256 of the file's bytes as "sha256:<hex>" (the form plans
// use for every digest), recorded in plans so that a plan made from another
// inventory is refused.
func (inv *Inventory) Digest() string { return "sha256:" + hex.EncodeToString(inv.digest[:]) }

// Nodes returns every node in file order with the defaults applied.
func (inv *Inventory) Nodes() []Node {
	out := make([]Node, 0, len(inv.nodes))
	for _, rn := range inv.nodes {
		out = append(out, inv.resolve(rn))
	}
	return out
}

// Node returns the resolved node with the given name.
func (inv *Inventory) Node(name string) (Node, bool) {
	for _, n := range inv.Nodes() {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// SetHostResolver tells Nodes how to find a node's HostName (the caller
// knows the SSH client config; this package does not).
func (inv *Inventory) SetHostResolver(f func(Node) string) { inv.hostName = f }

func (inv *Inventory) resolve(rn rawNode) Node {
	n := inv.resolveNode(rn)
	n.HostName = n.Address
	if inv.hostName != nil {
		n.HostName = inv.hostName(n)
	}
	return n
}

func (inv *Inventory) resolveNode(rn rawNode) Node {
	s := rn.ssh.over(inv.ssh)
	st := rn.settings.over(inv.defaults)
	return Node{
		Name:    rn.name,
		Address: rn.address,
		SSH: SSH{
			User:             orDefault(s.user.v, currentUser()),
			Port:             orDefaultInt(s.port.v, DefaultSSHPort),
			IdentityFile:     s.identityFile.v,
			KnownHosts:       orDefault(s.knownHosts.v, expandHome(DefaultKnownHosts)),
			Sudo:             !s.sudo.set || s.sudo.v,
			ProxyJump:        s.proxyJump.v,
			SudoPasswordFile: s.sudoPasswordFile.v,
			SSHConfig:        s.sshConfig.v,
			Explicit:         Explicit{User: s.user.set, Port: s.port.set, IdentityFile: s.identityFile.set, KnownHosts: s.knownHosts.set},
		},
		Settings: Settings{
			Config:        orDefault(st.config.v, DefaultConfig),
			EnvFile:       orDefault(st.envFile.v, DefaultEnvFile),
			Unit:          orDefault(st.unit.v, DefaultUnit),
			API:           orDefault(st.api.v, DefaultAPI),
			APICACert:     st.apiCACert.v,
			APIServerName: st.apiServerName.v,
			BackupDir:     orDefault(st.backupDir.v, DefaultBackupDir),
			VaultBlock:    st.vaultBlock.v,
			ConfigSet:     st.config.set,
			EnvFileSet:    st.envFile.set,
		},
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDefaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
