package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/envfile"
)

// PlanSchema versions the saved plan and the dry-run JSON document.
const PlanSchema = "kmsctl.plan/v1"

// EnvKey is the variable that holds the local HSM key on a node.
const EnvKey = "MINIO_KMS_HSM_KEY"

// Stage2Strategy says how the local HSM key is removed from the nodes.
type Stage2Strategy string

const (
	// Stage2Rolling removes the key one node at a time after a canary.
	Stage2Rolling Stage2Strategy = "rolling"
	// Stage2Together edits every node, then restarts them all at once, for
	// clusters whose nodes must switch their inter-node HSM together.
	Stage2Together Stage2Strategy = "together"
)

// Desired is what a run wants every node to end with.
type Desired struct {
	Vault        configedit.VaultSettings
	Prefer       configedit.BlockPath
	KeepLocalHSM bool
	// KeepLocalEntry skips the purge: the local HSM's sealed root key entry
	// stays in every node's database (an old copy of the key still unseals
	// a copy of a volume).
	KeepLocalEntry bool
	Stage2         Stage2Strategy
	// PinAdmin, when set, is the identity (h1:...) of the operator's API
	// key: a node whose config has no admin.identity gets it pinned to it
	// in stage 1, so the operator's key survives the local HSM key's
	// removal (see CheckAdminIdentity). "" leaves admin settings alone.
	PinAdmin string
}

// SecretDigest is the only trace of the approle secret a plan may keep: it
// lets a saved plan notice that the secret changed without storing it.
func (d Desired) SecretDigest() string {
	if d.Vault.AppRole == nil || d.Vault.AppRole.Secret == "" {
		return ""
	}
	return Digest([]byte("kmsctl approle secret\x00" + d.Vault.AppRole.Secret))
}

// Digest is the "sha256:<hex>" form used for every file in plans and events.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// FileChange is one planned file edit. Diff is redacted.
type FileChange struct {
	Path     string   `json:"path"`
	Before   string   `json:"before_sha256"`
	After    string   `json:"after_sha256"`
	Changed  bool     `json:"changed"`
	Diff     string   `json:"diff,omitempty"`
	Block    string   `json:"block,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// NodePlan is everything a run will do to one node.
type NodePlan struct {
	Name   string     `json:"name"`
	Role   string     `json:"role,omitempty"`
	Stage1 FileChange `json:"stage1"`
	Stage2 FileChange `json:"stage2"`
	// Done is true when neither stage changes anything on this node.
	Done bool `json:"done"`

	newConfig []byte
	newEnv    []byte
}

// NewConfig returns the planned config bytes (they may hold the secret:
// never print them).
func (p NodePlan) NewConfig() []byte { return p.newConfig }

// NewEnv returns the planned env file bytes.
func (p NodePlan) NewEnv() []byte { return p.newEnv }

// PlanSettings records the choices a plan was made with, without secrets.
type PlanSettings struct {
	Server         string         `json:"vault_server"`
	Auth           string         `json:"auth"`
	TransitPath    string         `json:"transit_path"`
	TransitKey     string         `json:"transit_key"`
	Block          string         `json:"block_preference"`
	KeepLocalHSM   bool           `json:"keep_local_hsm"`
	KeepLocalEntry bool           `json:"keep_local_entry"`
	Stage2         Stage2Strategy `json:"stage2"`
	SecretDigest   string         `json:"secret_digest,omitempty"`
}

// Plan is the reviewed, saveable description of a migration.
type Plan struct {
	Schema          string       `json:"schema"`
	InventoryDigest string       `json:"inventory_digest"`
	Settings        PlanSettings `json:"settings"`
	Order           []string     `json:"order"`
	OrderSource     OrderSource  `json:"order_source"`
	Leader          string       `json:"leader,omitempty"`
	Nodes           []NodePlan   `json:"nodes"`
	Warnings        []string     `json:"warnings,omitempty"`
	// Purge is the last step: removing the local HSM's sealed entries.
	Purge PurgePlan `json:"purge"`
}

// Pending reports whether applying the plan would change anything: a file
// edit or (once computed, see PlanPurge) the purge.
func (p *Plan) Pending() bool {
	for _, n := range p.Nodes {
		if !n.Done {
			return true
		}
	}
	return p.Purge.Pending()
}

// Node returns the plan of the named node.
func (p *Plan) Node(name string) (NodePlan, bool) {
	for _, n := range p.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodePlan{}, false
}

// NodeFiles is what a plan is computed from: one node's current files.
type NodeFiles struct {
	Name       string
	Role       string
	ConfigPath string
	Config     []byte
	// ConfigMode is the config file's permission bits.
	ConfigMode fs.FileMode
	EnvPath    string
	Env        []byte
	// EnvMissing is true when the env file does not exist (systemd ignores
	// a missing EnvironmentFile=- silently).
	EnvMissing bool
}

// PlanNode computes one node's edits. It is pure: the same files and
// settings always give the same plan.
func PlanNode(f NodeFiles, d Desired) (NodePlan, error) {
	np := NodePlan{Name: f.Name, Role: f.Role}
	cfg, err := configedit.Apply(f.Config, d.Vault, d.Prefer)
	if err != nil {
		return np, fmt.Errorf("node %s: %s: %w", f.Name, f.ConfigPath, err)
	}
	if pinned, ok, err := pinAdmin(cfg.Output, d); err != nil {
		return np, fmt.Errorf("node %s: %s: %w", f.Name, f.ConfigPath, err)
	} else if ok {
		cfg.Output, cfg.Changed = pinned, true
		cfg.Warnings = append(cfg.Warnings, "admin.identity pinned to the identity of your API key "+d.PinAdmin+" (the config had none; --no-pin-admin refuses instead)")
	}
	np.newConfig = cfg.Output
	np.Stage1 = FileChange{
		Path:     f.ConfigPath,
		Before:   Digest(f.Config),
		After:    Digest(cfg.Output),
		Changed:  cfg.Changed,
		Diff:     configedit.UnifiedDiff(f.ConfigPath, configedit.Redact(f.Config), configedit.Redact(cfg.Output), 3),
		Block:    cfg.Path.String(),
		Warnings: cfg.Warnings,
	}
	if cfg.Changed && f.ConfigMode&0o007 != 0 {
		np.Stage1.Warnings = append(np.Stage1.Warnings, fmt.Sprintf("%s is readable by everyone (mode %04o); it will hold the approle secret, so kmsctl writes it as %04o", f.ConfigPath, f.ConfigMode, f.ConfigMode&^0o007))
	}
	np.newEnv = f.Env
	np.Stage2 = FileChange{Path: f.EnvPath, Before: Digest(f.Env), After: Digest(f.Env)}
	if !d.KeepLocalHSM && !f.EnvMissing {
		env, err := envfile.RemoveKey(f.Env, EnvKey)
		if err != nil {
			return np, fmt.Errorf("node %s: %s: %w", f.Name, f.EnvPath, err)
		}
		np.newEnv = env.Output
		np.Stage2.After = Digest(env.Output)
		np.Stage2.Changed = env.Removed > 0
		np.Stage2.Diff = configedit.UnifiedDiff(f.EnvPath, envfile.Redact(f.Env, EnvKey), envfile.Redact(env.Output, EnvKey), 3)
		np.Stage2.Warnings = env.Warnings
	}
	np.Done = !np.Stage1.Changed && !np.Stage2.Changed
	return np, nil
}

// BuildPlan plans every node in the given restart order. Errors of all nodes
// are returned together so one dry run shows every problem.
func BuildPlan(files []NodeFiles, d Desired, order []string, source OrderSource, leader string) (*Plan, error) {
	p := &Plan{
		Schema:      PlanSchema,
		Settings:    settingsOf(d),
		Order:       order,
		OrderSource: source,
		Leader:      leader,
	}
	byName := make(map[string]NodeFiles, len(files))
	for _, f := range files {
		byName[f.Name] = f
	}
	var errs []error
	for _, name := range order {
		np, err := PlanNode(byName[name], d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.Nodes = append(p.Nodes, np)
	}
	if source == OrderFromInventory {
		p.Warnings = append(p.Warnings, "no key manager API key: the leader is unknown, so nodes restart in inventory order, and stage 2 relies on its canary node instead of the cluster's HSM entries")
	}
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return p, nil
}

func settingsOf(d Desired) PlanSettings {
	s := PlanSettings{
		Server:         d.Vault.Server,
		TransitPath:    d.Vault.Transit.Path,
		TransitKey:     d.Vault.Transit.Key,
		Block:          d.Prefer.String(),
		KeepLocalHSM:   d.KeepLocalHSM,
		KeepLocalEntry: d.KeepLocalEntry,
		Stage2:         d.Stage2,
		SecretDigest:   d.SecretDigest(),
	}
	switch {
	case d.Vault.AppRole != nil:
		s.Auth = "approle"
	case d.Vault.Kubernetes != nil:
		s.Auth = "kubernetes"
	}
	return s
}
