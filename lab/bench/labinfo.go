package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// labInfo is what the driver needs from a lab directory: the nodes, the
// Vault settings the migration writes, and env.sh for both tools.
type labInfo struct {
	Dir   string
	Nodes []labNode `yaml:"nodes"`
	Vault labVault  `yaml:"vault"`
	// Env holds env.sh's variables as KEY=VALUE (API key included).
	Env []string `yaml:"-"`
}

// labNode is one node of the lab inventory.
type labNode struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
}

// labVault is the inventory's vault section (approle only: the lab's default).
type labVault struct {
	Server  string `yaml:"server"`
	CACert  string `yaml:"ca_cert"`
	AppRole struct {
		ID         string `yaml:"id"`
		Path       string `yaml:"path"`
		SecretFile string `yaml:"secret_file"`
	} `yaml:"approle"`
	Transit struct {
		Key  string `yaml:"key"`
		Path string `yaml:"path"`
	} `yaml:"transit"`
}

// readLab reads DIR/inventory.yaml and DIR/env.sh.
func readLab(dir string) (*labInfo, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "inventory.yaml"))
	if err != nil {
		return nil, fmt.Errorf("lab inventory: %w", err)
	}
	l := &labInfo{Dir: dir}
	if err := yaml.Unmarshal(raw, l); err != nil {
		return nil, fmt.Errorf("lab inventory %s: %w", dir, err)
	}
	if len(l.Nodes) == 0 || l.Vault.Server == "" || l.Vault.AppRole.SecretFile == "" {
		return nil, fmt.Errorf("lab inventory %s: no nodes or no approle vault section", dir)
	}
	if l.Env, err = labdir.ReadEnv(filepath.Join(dir, "env.sh")); err != nil {
		return nil, err
	}
	return l, nil
}

// without returns env minus the variable key.
func without(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
