package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockHostSSH rejects the host's own SSH traffic inside node (traffic
// from other nodes passes), until the test ends.
func blockHostSSH(t *testing.T, l *lab, node string) {
	t.Helper()
	table := "kmsctl_e2e_sshcfg"
	rule := "table inet " + table + " {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr 10.213.0.1 tcp dport 22 reject with tcp reset\n }\n}\n"
	must(t, l.exec(t, []byte(rule), node, "nft", "-f", "-"), "block the host's ssh to "+node)
	t.Cleanup(func() { l.exec(t, nil, node, "nft", "delete", "table", "inet", table) })
}

// TestStatusThroughSSHConfigAliases: an inventory that names its nodes by
// bare host aliases and has no ssh section works through ~/.ssh/config
// alone: HostName, User, IdentityFile, UserKnownHostsFile, and ProxyJump,
// kms-2 through one bastion and the last node through a two-hop chain. The
// host's own SSH to every node but the first is rejected, so the last node
// can only be reached host -> kms-1 -> kms-2 -> last.
func TestStatusThroughSSHConfigAliases(t *testing.T) {
	l := needLab(t)
	base := l.loadInventory(t, "inventory.yaml")
	addrs := map[string]string{}
	for _, n := range invNodes(t, base) {
		addrs[n["name"].(string)] = n["address"].(string)
	}
	home := t.TempDir()
	var cfg strings.Builder
	for i, name := range l.nodes {
		fmt.Fprintf(&cfg, "Host %s jump-%s\n  HostName %s\n", name, name, addrs[name])
		switch {
		case i == 1:
			fmt.Fprintf(&cfg, "Host %s\n  ProxyJump jump-%s\n", name, l.nodes[0])
		case i >= 2:
			fmt.Fprintf(&cfg, "Host %s\n  ProxyJump jump-%s,jump-%s\n", name, l.nodes[0], l.nodes[1])
		}
	}
	fmt.Fprintf(&cfg, "Host *\n  User root\n  IdentityFile %s\n  UserKnownHostsFile %s\n  HashKnownHosts yes\n",
		filepath.Join(l.dir, "id_ed25519"), filepath.Join(l.dir, "known_hosts"))
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := l.variant(t, "inventory.yaml", func(m map[string]any) {
		delete(m, "ssh")
		for _, n := range invNodes(t, m) {
			n["address"] = n["name"]
		}
	})
	for _, n := range l.nodes[1:] {
		blockHostSSH(t, l, n)
	}
	r := l.kmsctl(t, []string{"HOME=" + home}, "status", "-i", inv, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 || !doc.Healthy {
		t.Fatalf("status through ~/.ssh/config aliases and a two-hop ProxyJump: %v\n%s", err, r)
	}
	for _, n := range doc.Nodes {
		if !n.SSH.Reachable || n.API == nil || !n.API.Ready {
			t.Errorf("node %s: %+v", n.Name, n)
		}
	}
	// The same inventory without the config file cannot resolve the aliases.
	r = l.kmsctl(t, []string{"HOME=" + t.TempDir()}, "status", "-i", inv, "-o", "json")
	if r.code == 0 {
		t.Fatalf("status without the ssh_config should fail: %s", r)
	}
}

// TestStatusUnknownHostKeyAdvice: with an empty known_hosts every node is
// "host key unknown" (not "unreachable"), the message names the flag and
// ssh-keyscan; --accept-new-host-keys then records the keys, hashed as the
// ssh_config asks, and a strict run afterwards is healthy.
func TestStatusUnknownHostKeyAdvice(t *testing.T) {
	l := needLab(t)
	kh := writeTemp(t, "known_hosts", nil)
	cfg := writeTemp(t, "ssh_config", []byte("Host *\n  HashKnownHosts yes\n"))
	inv := l.variant(t, "inventory.yaml", func(m map[string]any) { section(m, "ssh")["known_hosts"] = kh })
	tab := l.kmsctl(t, nil, "status", "-i", inv, "-F", cfg)
	out := tab.stdout + tab.stderr
	if tab.code != 3 || !strings.Contains(out, "host key unknown") || !strings.Contains(out, "--accept-new-host-keys") || !strings.Contains(out, "ssh-keyscan") {
		t.Fatalf("unknown host keys: %s", tab)
	}
	if r := l.kmsctl(t, nil, "status", "-i", inv, "-F", cfg, "--accept-new-host-keys"); r.code != 0 {
		t.Fatalf("--accept-new-host-keys: %s", r)
	}
	data, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(l.nodes) || !strings.HasPrefix(lines[0], "|1|") || strings.Contains(string(data), "10.213.0.") {
		t.Fatalf("recorded keys not hashed (HashKnownHosts yes):\n%s", data)
	}
	if r := l.kmsctl(t, nil, "status", "-i", inv, "-F", cfg); r.code != 0 {
		t.Fatalf("strict status after recording: %s", r)
	}
	// KMSCTL_ACCEPT_NEW_HOST_KEYS cannot do what only the flag may.
	if r := l.kmsctl(t, []string{"KMSCTL_ACCEPT_NEW_HOST_KEYS=true"}, "status", "-i", inv); r.code != 64 {
		t.Fatalf("KMSCTL_ACCEPT_NEW_HOST_KEYS: want exit 64: %s", r)
	}
}
