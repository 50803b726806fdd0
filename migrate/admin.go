package migrate

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// adminConfig is the one setting of a node's config the admin check reads.
type adminConfig struct {
	Admin struct {
		Identity string `yaml:"identity"`
	} `yaml:"admin"`
}

// AdminIdentity returns the admin.identity a config sets ("" when none).
func AdminIdentity(config []byte) (string, error) {
	var c adminConfig
	if err := yaml.Unmarshal(config, &c); err != nil {
		return "", err
	}
	return c.Admin.Identity, nil
}

// CheckAdminIdentity keeps the operator's access through the HSM change.
// Without admin.identity the key manager derives its root identity, and
// with it the operator's API key, from an HSM key; stage 2 removes the
// local one, so a node without admin.identity is refused before any change
// with the exact lines to add, unless Desired.PinAdmin asks to pin it to the operator's key, which
// the plan then shows in the config diff). apiIdentity is the identity of
// the operator's API key ("" without one).
func CheckAdminIdentity(facts []Facts, targets []*Target, apiIdentity string, d Desired) (warnings []string, err error) {
	if d.KeepLocalHSM {
		return nil, nil
	}
	var errs []error
	for i, f := range facts {
		id, err := AdminIdentity(f.Files.Config)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("node %s: %s: %w", f.Name, targets[i].ConfigPath, err))
		case id == "" && d.PinAdmin != "" && !hasAdminSection(f.Files.Config):
			// the plan pins it (pinAdmin), visibly in the config diff
		case id == "":
			errs = append(errs, fmt.Errorf("node %s: %s sets no admin.identity: the node's root identity (and with it your API key) may be derived from the local HSM key that stage 2 removes. %s", f.Name, targets[i].ConfigPath, adminAdvice(apiIdentity)))
		case apiIdentity != "" && id != apiIdentity:
			warnings = append(warnings, fmt.Sprintf("node %s: admin.identity is %s, not the identity of your API key (%s): your key keeps whatever access its policy gives it", f.Name, id, apiIdentity))
		}
	}
	return warnings, errors.Join(errs...)
}

func adminAdvice(apiIdentity string) string {
	id := apiIdentity
	if id == "" {
		id = "<the output of `minkms identity <your API key>`>"
	}
	return fmt.Sprintf("Add \"admin:\\n  identity: %s\" to every node's config, restart the nodes one at a time (checking `kmsctl status` in between) and run again; or keep the local key with --keep-local-hsm", id)
}

// pinAdmin appends "admin: identity: <d.PinAdmin>" to a config that has no
// admin section, when the run removes the local key. A config with an
// admin section but no identity is left to CheckAdminIdentity (refused):
// kmsctl does not merge into a section it did not write. The result is
// parsed again to prove it says what was meant.
func pinAdmin(config []byte, d Desired) ([]byte, bool, error) {
	if d.PinAdmin == "" || d.KeepLocalHSM {
		return config, false, nil
	}
	var top map[string]any
	if err := yaml.Unmarshal(config, &top); err != nil {
		return nil, false, err
	}
	if _, ok := top["admin"]; ok {
		return config, false, nil
	}
	out := append([]byte(nil), config...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, "# pinned by kmsctl: the operator's API key stays admin once the local HSM key is gone\nadmin:\n  identity: "+d.PinAdmin+"\n"...)
	if id, err := AdminIdentity(out); err != nil || id != d.PinAdmin {
		return nil, false, fmt.Errorf("cannot pin admin.identity safely (re-read: %q, %v)", id, err)
	}
	return out, true, nil
}

func hasAdminSection(config []byte) bool {
	var top map[string]any
	if yaml.Unmarshal(config, &top) != nil {
		return true
	}
	_, ok := top["admin"]
	return ok
}
