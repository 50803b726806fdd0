package standin

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultSettingsPath is where a lab node keeps its lab-only settings.
const DefaultSettingsPath = "/etc/minkms-lab/lab.yaml"

// SettingsEnv overrides DefaultSettingsPath, so tests can run the stand-in
// as a plain process without root.
const SettingsEnv = "MINKMS_LAB_SETTINGS"

// Inter-node key rules (lab.yaml internode_rule).
const (
	RuleShared  = "shared"
	RulePrimary = "primary"
)

// HSM namings (lab.yaml hsm_names): how a node names its HSMs in
// ClusterStatus, its log and the AddHSM/RemoveHSM commands.
const (
	// NamesLegacy is the lab's first model: local and vault:<mount>/<key>.
	NamesLegacy = "legacy"
	// NamesProduct is what the product's banner shows: hsm:minio:soft,
	// hsm:hashicorp:vault (the Vault name is UNCONFIRMED), hsm:openssf:openbao.
	NamesProduct = "product"
)

// Unseal policies (lab.yaml unseal).
const (
	// UnsealAll is the strict start: every configured HSM must work.
	UnsealAll = "all"
	// UnsealAny starts with any configured HSM that works, as the chart's
	// values describe; the others are logged and get no sealed entry.
	UnsealAny = "any"
)

// Admin identity variants of a lab (lab up --admin-identity): whether the
// lab writes admin.identity into config.yaml.
const (
	AdminPinned  = "pinned"
	AdminDerived = "derived"
)

// Variant is one choice among the product's plausible behaviours that the
// lab can play (docs/design.md, "Lab variants").
type Variant struct {
	HSMNames                string `json:"hsm_names"`                 // NamesLegacy | NamesProduct
	Unseal                  string `json:"unseal"`                    // UnsealAll | UnsealAny
	AdminIdentity           string `json:"admin_identity"`            // AdminPinned | AdminDerived
	RestartRecreatesRemoved bool   `json:"restart_recreates_removed"` // a start re-seals an entry removed with RemoveHSM
}

// String names the variant for humans (lab up, lab status).
func (v Variant) String() string {
	return fmt.Sprintf("hsm names %s, unseal %s, admin identity %s, restart recreates removed %t",
		v.HSMNames, v.Unseal, v.AdminIdentity, v.RestartRecreatesRemoved)
}

// Check reports the first field that holds no known value.
func (v Variant) Check() error {
	for _, c := range []struct {
		name, value string
		allowed     []string
	}{
		{"hsm-names", v.HSMNames, []string{NamesLegacy, NamesProduct}},
		{"unseal", v.Unseal, []string{UnsealAll, UnsealAny}},
		{"admin-identity", v.AdminIdentity, []string{AdminPinned, AdminDerived}},
	} {
		if !slices.Contains(c.allowed, c.value) {
			return fmt.Errorf("%s must be %s, not %q", c.name, strings.Join(c.allowed, " or "), c.value)
		}
	}
	return nil
}

// Defaults is the one place where the lab's default variant is set: lab up,
// lab heal and a lab.yaml without these keys all use it. The product's
// own naming and the chart's "start with any HSM that works": the
// behaviours kmsctl must handle on a real cluster (issue 11).
var Defaults = Variant{HSMNames: NamesProduct, Unseal: UnsealAny, AdminIdentity: AdminPinned, RestartRecreatesRemoved: false}

// Settings are the lab-only facts about a node that the real product keeps
// elsewhere (cluster membership) or that model UNCONFIRMED behaviour.
type Settings struct {
	NodeID        uint32
	Peers         map[uint32]string // all nodes, self included
	VaultBlock    string
	InternodeRule string
	Version       string
	HSMNames      string // NamesLegacy | NamesProduct
	Unseal        string // UnsealAll | UnsealAny
	// RestartRecreatesRemoved: a start re-seals for a configured HSM whose
	// entry was removed with RemoveHSM (UNCONFIRMED product behaviour).
	RestartRecreatesRemoved bool
	FaultsDir               string // faults/ next to lab.yaml
}

// LoadSettings reads and strictly parses lab.yaml at path.
func LoadSettings(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read lab settings: %w", err)
	}
	s, err := ParseSettings(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.FaultsDir = filepath.Join(filepath.Dir(path), "faults")
	return s, nil
}

// ParseSettings parses lab.yaml; unknown keys are errors, as in the config.
func ParseSettings(data []byte) (*Settings, error) {
	root, err := documentRoot(data)
	if err != nil {
		return nil, err
	}
	m, err := mapping(root, "", settingsKeys, nil)
	if err != nil {
		return nil, err
	}
	s := &Settings{VaultBlock: VaultBlockHashicorp, InternodeRule: RuleShared, Version: "2025-10-01T00-00-00Z",
		HSMNames: Defaults.HSMNames, Unseal: Defaults.Unseal, RestartRecreatesRemoved: Defaults.RestartRecreatesRemoved}
	id, err := reqScalar(m, root, "", "node_id")
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return nil, lineErr(m["node_id"].key, "node_id must be a uint32: %v", err)
	}
	s.NodeID = uint32(n)
	if s.Peers, err = parsePeers(m, root); err != nil {
		return nil, err
	}
	if _, ok := s.Peers[s.NodeID]; !ok {
		return nil, lineErr(m["peers"].key, "peers must include this node (%d)", s.NodeID)
	}
	return s, parseSettingsChoices(m, s)
}

// settingsKeys are the keys lab.yaml may hold.
var settingsKeys = []string{"node_id", "peers", "vault_block", "internode_rule", "version",
	"hsm_names", "unseal", "restart_recreates_removed"}

func parseSettingsChoices(m map[string]entry, s *Settings) error {
	recreate := strconv.FormatBool(s.RestartRecreatesRemoved)
	choices := []struct {
		key     string
		dst     *string
		allowed []string
	}{
		{"vault_block", &s.VaultBlock, []string{VaultBlockHashicorp, VaultBlockShort}},
		{"internode_rule", &s.InternodeRule, []string{RuleShared, RulePrimary}},
		{"version", &s.Version, nil},
		{"hsm_names", &s.HSMNames, []string{NamesLegacy, NamesProduct}},
		{"unseal", &s.Unseal, []string{UnsealAll, UnsealAny}},
		{"restart_recreates_removed", &recreate, []string{"false", "true"}},
	}
	defer func() { s.RestartRecreatesRemoved = recreate == "true" }()
	for _, c := range choices {
		v, err := optScalar(m, "", c.key)
		if err != nil {
			return err
		}
		if v == "" {
			continue
		}
		if c.allowed != nil && !slices.Contains(c.allowed, v) {
			return lineErr(m[c.key].key, "%s must be %s or %s", c.key, c.allowed[0], c.allowed[1])
		}
		*c.dst = v
	}
	return nil
}

func parsePeers(m map[string]entry, root *yaml.Node) (map[uint32]string, error) {
	e, ok := m["peers"]
	if !ok {
		return nil, lineErr(root, "missing required key \"peers\"")
	}
	if e.val.Kind != yaml.MappingNode || len(e.val.Content) == 0 {
		return nil, lineErr(e.key, "peers must be a non-empty mapping of node id to host:port")
	}
	peers := map[uint32]string{}
	for i := 0; i+1 < len(e.val.Content); i += 2 {
		k, v := e.val.Content[i], e.val.Content[i+1]
		id, err := strconv.ParseUint(k.Value, 10, 32)
		if err != nil {
			return nil, lineErr(k, "peer id %q must be a uint32", k.Value)
		}
		if _, dup := peers[uint32(id)]; dup {
			return nil, lineErr(k, "duplicate peer id %d", id)
		}
		addr, err := scalar(entry{key: k, val: v}, "peers."+k.Value)
		if err != nil {
			return nil, err
		}
		peers[uint32(id)] = addr
	}
	return peers, nil
}
