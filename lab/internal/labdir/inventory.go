package labdir

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Node is what the lab files need to know about a node.
type Node struct {
	Name    string
	Address string
}

// inventory mirrors the kmsctl inventory shape (issue 3, docs/inventory.md).
type inventory struct {
	Version      string          `yaml:"version"`
	SSH          inventorySSH    `yaml:"ssh"`
	NodeDefaults map[string]any  `yaml:"node_defaults"`
	Nodes        []inventoryNode `yaml:"nodes"`
	Vault        inventoryVault  `yaml:"vault"`
}

type inventorySSH struct {
	User             string `yaml:"user"`
	Port             int    `yaml:"port"`
	IdentityFile     string `yaml:"identity_file"`
	KnownHosts       string `yaml:"known_hosts"`
	Sudo             bool   `yaml:"sudo"`
	SudoPasswordFile string `yaml:"sudo_password_file,omitempty"`
}

type inventoryNode struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
}

type inventoryVault struct {
	Server  string            `yaml:"server"`
	CACert  string            `yaml:"ca_cert"`
	Approle map[string]string `yaml:"approle"`
	Transit map[string]string `yaml:"transit"`
}

// WriteInventories writes inventory.yaml (root), inventory-sudo.yaml (kmsadmin,
// passwordless sudo) and inventory-sudopw.yaml (kmspw, sudo password from a file).
func (l Layout) WriteInventories(nodes []Node, v VaultInfo) error {
	variants := []struct {
		path string
		ssh  inventorySSH
	}{
		{l.Inventory(), inventorySSH{User: "root"}},
		{l.InventorySudo(), inventorySSH{User: "kmsadmin", Sudo: true}},
		{l.InventorySudoPW(), inventorySSH{User: "kmspw", Sudo: true, SudoPasswordFile: l.Secret(SecretKmspwPassword)}},
	}
	for _, vr := range variants {
		vr.ssh.Port, vr.ssh.IdentityFile, vr.ssh.KnownHosts = 22, l.ClientKey(), l.KnownHosts()
		b, err := yaml.Marshal(l.inventory(nodes, v, vr.ssh))
		if err != nil {
			return fmt.Errorf("encode inventory: %w", err)
		}
		head := "# kmsctl inventory for the lab in " + l.Root + " (written by `lab up`)\n"
		if err := WriteFileAtomic(vr.path, append([]byte(head), b...), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", vr.path, err)
		}
	}
	return nil
}

func (l Layout) inventory(nodes []Node, v VaultInfo, ssh inventorySSH) inventory {
	inv := inventory{
		Version: "v1",
		SSH:     ssh,
		NodeDefaults: map[string]any{
			"config": "/etc/minkms/config.yaml", "env_file": "/etc/default/minkms",
			"unit": "minkms", "api": "https://127.0.0.1:7373",
			// the node API certificates are signed by the lab CA
			"api_ca_cert": l.CACert(),
		},
		Vault: inventoryVault{
			Server: v.Addr, CACert: l.CACert(),
			Approle: map[string]string{"id": v.ApproleID, "secret_file": l.Secret(SecretApprole), "path": "approle"},
			Transit: map[string]string{"key": "minkms-sealing-key", "path": "transit"},
		},
	}
	for _, n := range nodes {
		inv.Nodes = append(inv.Nodes, inventoryNode(n))
	}
	return inv
}
