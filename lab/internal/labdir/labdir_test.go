package labdir

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestEnvShellRoundTrip(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	vars := [][2]string{{"A", "plain"}, {"B", "it's quoted"}, {"C", "$HOME `x`"}}
	if err := l.WriteEnv(vars); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", `. "$1"; printf '%s|%s|%s' "$A" "$B" "$C"`, "sh", l.EnvFile()).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "plain|it's quoted|$HOME `x`"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if fi, _ := os.Stat(l.EnvFile()); fi.Mode().Perm() != 0o600 {
		t.Fatalf("env.sh mode %v", fi.Mode().Perm())
	}
}

func TestInventoriesDifferOnlyInSSH(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	nodes := []Node{{"kms-1", "10.213.0.11"}, {"kms-2", "10.213.0.12"}}
	if err := l.WriteInventories(nodes, VaultInfo{Addr: "https://10.213.0.1:8200", ApproleID: "rid"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file, user string
		sudo       bool
		pwFile     bool
	}{{l.Inventory(), "root", false, false}, {l.InventorySudo(), "kmsadmin", true, false}, {l.InventorySudoPW(), "kmspw", true, true}}
	for _, c := range cases {
		var inv inventory
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &inv); err != nil {
			t.Fatal(err)
		}
		if inv.SSH.User != c.user || inv.SSH.Sudo != c.sudo || (inv.SSH.SudoPasswordFile != "") != c.pwFile {
			t.Errorf("%s: ssh %+v", c.file, inv.SSH)
		}
		if len(inv.Nodes) != 2 || inv.Nodes[1].Address != "10.213.0.12" || inv.Vault.Approle["id"] != "rid" {
			t.Errorf("%s: nodes %+v vault %+v", c.file, inv.Nodes, inv.Vault)
		}
	}
}

func TestSSHConfigAndKnownHosts(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	nodes := []Node{{"kms-1", "10.213.0.11"}, {"kms-2", "10.213.0.12"}}
	if err := l.WriteSSHConfig(nodes); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteKnownHosts([]HostKey{{nodes[0], "ssh-ed25519 AAAA1"}, {nodes[1], "ssh-ed25519 AAAA2"}}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(l.SSHConfig())
	for _, want := range []string{"Host kms-1 bastion\n  HostName 10.213.0.11", "StrictHostKeyChecking yes", "UserKnownHostsFile " + l.KnownHosts()} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("ssh_config lacks %q", want)
		}
	}
	kh, _ := os.ReadFile(l.KnownHosts())
	if string(kh) != "10.213.0.11 ssh-ed25519 AAAA1\n10.213.0.12 ssh-ed25519 AAAA2\n" {
		t.Errorf("known_hosts %q", kh)
	}
}

func TestResolvePrecedence(t *testing.T) {
	cases := []struct{ flag, env, want string }{
		{"/a", "/b", "/a"}, {"", "/b", "/b"}, {"", "", DefaultDir},
	}
	for _, c := range cases {
		t.Setenv("KMSCTL_LAB_DIR", c.env)
		got, err := Resolve(c.flag)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q) env %q = %q, %v; want %q", c.flag, c.env, got, err, c.want)
		}
	}
}
