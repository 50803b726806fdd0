package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmsctl/kmsctl/inventory"
)

// hsmKeyVar is the variable that holds the local HSM key.
const hsmKeyVar = "MINIO_KMS_HSM_KEY"

// envHasKey reports whether systemd would pass a non-empty MINIO_KMS_HSM_KEY
// from this EnvironmentFile: comments and "export" lines are ignored,
// backslash continuations joined, quotes removed, the last assignment wins.
func envHasKey(data []byte) bool {
	has := false
	for _, line := range envLines(data) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != hsmKeyVar {
			continue
		}
		has = unquote(strings.TrimSpace(v)) != ""
	}
	return has
}

// envLines returns logical lines: continuations joined, comments dropped.
func envLines(data []byte) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont)
			continue
		}
		cur.WriteString(line)
		l := strings.TrimSpace(cur.String())
		cur.Reset()
		if l != "" && l[0] != '#' && l[0] != ';' {
			out = append(out, l)
		}
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// vaultBlocks returns the Vault HSM block spellings present in a key manager
// config (hsm.hashicorp.vault and/or hsm.vault).
func vaultBlocks(data []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	hsm := mapValue(doc.Content[0], "hsm")
	var out []string
	if mapValue(mapValue(hsm, "hashicorp"), "vault") != nil {
		out = append(out, inventory.VaultBlockHashiCorp)
	}
	if mapValue(hsm, "vault") != nil {
		out = append(out, inventory.VaultBlockShort)
	}
	return out, nil
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
