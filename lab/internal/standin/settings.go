package standin

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

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

// Settings are the lab-only facts about a node that the real product keeps
// elsewhere (cluster membership) or that model UNCONFIRMED behaviour.
type Settings struct {
	NodeID        uint32
	Peers         map[uint32]string // all nodes, self included
	VaultBlock    string
	InternodeRule string
	Version       string
	FaultsDir     string // faults/ next to lab.yaml
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
	m, err := mapping(root, "", []string{"node_id", "peers", "vault_block", "internode_rule", "version"}, nil)
	if err != nil {
		return nil, err
	}
	s := &Settings{VaultBlock: VaultBlockHashicorp, InternodeRule: RuleShared, Version: "2025-10-01T00-00-00Z"}
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

func parseSettingsChoices(m map[string]entry, s *Settings) error {
	choices := []struct {
		key     string
		dst     *string
		allowed []string
	}{
		{"vault_block", &s.VaultBlock, []string{VaultBlockHashicorp, VaultBlockShort}},
		{"internode_rule", &s.InternodeRule, []string{RuleShared, RulePrimary}},
		{"version", &s.Version, nil},
	}
	for _, c := range choices {
		v, err := optScalar(m, "", c.key)
		if err != nil {
			return err
		}
		if v == "" {
			continue
		}
		if c.allowed != nil && v != c.allowed[0] && v != c.allowed[1] {
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
