package cmd

import (
	"time"
)

// statusSchema versions the JSON document of `kmsctl status -o json`.
const statusSchema = "kmsctl.status/v1"

// StatusReport is the whole result of `kmsctl status`, and its JSON form.
type StatusReport struct {
	Schema    string    `json:"schema"`
	Inventory string    `json:"inventory"`
	CheckedAt time.Time `json:"checked_at"`
	Healthy   bool      `json:"healthy"`
	// Problems are the cluster-wide problems (no leader, nodes down).
	Problems []string `json:"problems"`
	// Warnings do not make the cluster unhealthy but need a look, such as
	// cluster members that the inventory does not list.
	Warnings []string     `json:"warnings"`
	Cluster  *ClusterView `json:"cluster"`
	Nodes    []NodeReport `json:"nodes"`
}

// NodeReport is everything status learned about one node.
type NodeReport struct {
	Name     string        `json:"name"`
	Address  string        `json:"address"`
	Healthy  bool          `json:"healthy"`
	Problems []string      `json:"problems"`
	SSH      SSHReport     `json:"ssh"`
	Sudo     *SudoReport   `json:"sudo"`
	Unit     *UnitReport   `json:"unit"`
	Files    *FilesReport  `json:"files"`
	API      *APIReport    `json:"api"`
	Member   *MemberReport `json:"member"`
	// LocalHSM says where the local HSM key still counts on this node.
	LocalHSM *LocalHSMReport `json:"local_hsm"`
}

// SSHReport: could kmsctl log in.
type SSHReport struct {
	Reachable bool `json:"reachable"`
	// Kind classifies a failure (remote.DialErrorKind: "host key unknown",
	// "authentication refused", "timed out", ...).
	Kind  string `json:"kind,omitempty"`
	Error string `json:"error,omitempty"`
}

// Sudo modes.
const (
	sudoRoot = "root" // logged in as root, sudo not needed
	sudoOK   = "ok"   // sudo works
	sudoFail = "failed"
	sudoOff  = "off" // sudo disabled in the inventory
)

// SudoReport: can kmsctl act as root.
type SudoReport struct {
	Mode  string `json:"mode"`
	Error string `json:"error,omitempty"`
}

// UnitReport is the systemd unit's state.
type UnitReport struct {
	Name        string     `json:"name"`
	ActiveState string     `json:"active_state"`
	SubState    string     `json:"sub_state"`
	Restarts    int        `json:"restarts"`
	MainPID     int        `json:"main_pid"`
	Since       *time.Time `json:"since,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// FilesReport is the HSM state read from the node's files.
type FilesReport struct {
	// LocalKey: the env file gives the unit a MINIO_KMS_HSM_KEY.
	LocalKey   bool   `json:"local_key"`
	EnvMissing bool   `json:"env_file_missing,omitempty"`
	EnvError   string `json:"env_file_error,omitempty"`
	// VaultBlocks lists the Vault block spellings in the config.
	VaultBlocks []string `json:"vault_blocks"`
	ConfigError string   `json:"config_error,omitempty"`
}

// APIReport is the key manager API as reached through the SSH tunnel.
type APIReport struct {
	URL          string `json:"url"`
	Version      string `json:"version,omitempty"`
	Live         bool   `json:"live"`
	Ready        bool   `json:"ready"`
	Error        string `json:"error,omitempty"`
	ClusterError string `json:"cluster_error,omitempty"`
}

// MemberReport is the node's entry in the cluster view.
type MemberReport struct {
	ID        uint32   `json:"id"`
	Role      string   `json:"role"`
	Leader    bool     `json:"leader"`
	HSM       []string `json:"hsm"`
	HSMActive []string `json:"hsm_active"`
	// LocalHSMs and ExternalHSMs split hsm_active, as the product names
	// them, into the HSMs configured before the Vault block and the ones it
	// brought (told apart by difference, see migrate.IdentifyHSMs).
	LocalHSMs    []string `json:"local_hsms,omitempty"`
	ExternalHSMs []string `json:"external_hsms,omitempty"`
	// HSMNote says why the HSMs could not be told apart.
	HSMNote string `json:"hsm_note,omitempty"`
}

// ClusterView is the cluster as seen by one node, with members mapped to
// inventory names. Nil without an API key.
type ClusterView struct {
	// Source is the inventory node whose view this is.
	Source string `json:"source"`
	// Leader is the leader's inventory name ("" when there is none agreed).
	Leader string          `json:"leader"`
	Up     []ClusterMember `json:"nodes_up"`
	Down   []ClusterMember `json:"nodes_down"`
}

// ClusterMember is one node in the cluster view.
type ClusterMember struct {
	ID        uint32   `json:"id"`
	Host      string   `json:"host"`
	Node      string   `json:"node,omitempty"`
	Role      string   `json:"role,omitempty"`
	Version   string   `json:"version,omitempty"`
	HSM       []string `json:"hsm,omitempty"`
	HSMActive []string `json:"hsm_active,omitempty"`
}
