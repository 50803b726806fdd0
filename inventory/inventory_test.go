package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = "version: v1\nnodes:\n  - name: kms-1\n    address: 10.0.0.11\n"

func TestParseValid(t *testing.T) {
	inv, err := Parse("/etc/kmsctl/inventory.yaml", Example)
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	nodes := inv.Nodes()
	if len(nodes) != 3 {
		t.Fatalf("got %d nodes, want 3", len(nodes))
	}
	home, _ := os.UserHomeDir()
	n := nodes[2]
	want := Node{
		Name: "kms-3", Address: "10.0.0.13", HostName: "10.0.0.13",
		SSH: SSH{User: "kmsadmin", Port: 2222, IdentityFile: filepath.Join(home, ".ssh/id_ed25519"),
			KnownHosts: filepath.Join(home, ".ssh/known_hosts"), Sudo: true,
			Explicit: Explicit{User: true, Port: true, IdentityFile: true, KnownHosts: true}},
		Settings: Settings{Config: DefaultConfig, EnvFile: DefaultEnvFile, Unit: DefaultUnit, API: DefaultAPI, BackupDir: DefaultBackupDir, ConfigSet: true, EnvFileSet: true},
	}
	if n != want {
		t.Errorf("node 3 =\n%+v\nwant\n%+v", n, want)
	}
	if m, _ := Parse("m.yaml", []byte(minimal)); m.Nodes()[0].SSH.Explicit != (Explicit{}) {
		t.Errorf("defaults taken as written: %+v", m.Nodes()[0].SSH.Explicit)
	}
	if nodes[0].SSH.Port != 22 {
		t.Errorf("kms-1 port = %d, want 22", nodes[0].SSH.Port)
	}
	if inv.Vault == nil || inv.Vault.AppRole == nil || inv.Vault.AppRole.SecretFile != filepath.Join(home, "kms/approle-secret-id") {
		t.Errorf("vault approle = %+v", inv.Vault)
	}
	// The example names its mounts; the defaults for none are the block's
	// (configedit.Transit.MountPath, tested there and by cmd's vaultSettings test).
	if inv.Vault.Transit.Path != "transit" || inv.Vault.AppRole.Path != "approle" {
		t.Errorf("mount paths: %q %q", inv.Vault.Transit.Path, inv.Vault.AppRole.Path)
	}
	if !strings.HasPrefix(inv.Digest(), "sha256:") || len(inv.Digest()) != 71 {
		t.Errorf("digest %q", inv.Digest())
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	src := `version: v1
ssh: {user: root, sudo: true, identity_file: keys/id, port: 2200}
node_defaults: {unit: kms, api: "https://127.0.0.1:7000", vault_block: hsm.vault}
nodes:
  - {name: a, address: 10.0.0.1}
  - name: b
    address: b.example.net
    unit: other@x
    ssh: {sudo: false, user: ops, port: 22}
`
	inv, err := Parse("/inv/dir/inventory.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := inv.Node("a")
	b, ok := inv.Node("b")
	if !ok {
		t.Fatal("node b missing")
	}
	if a.Unit != "kms" || a.API != "https://127.0.0.1:7000" || a.VaultBlock != "hsm.vault" || a.Config != DefaultConfig {
		t.Errorf("a settings = %+v", a.Settings)
	}
	if a.SSH.IdentityFile != "/inv/dir/keys/id" || a.SSH.Port != 2200 || !a.SSH.Sudo || a.SSH.User != "root" {
		t.Errorf("a ssh = %+v", a.SSH)
	}
	if b.Unit != "other@x" || b.SSH.Sudo || b.SSH.User != "ops" || b.SSH.Port != 22 || b.SSH.IdentityFile != "/inv/dir/keys/id" {
		t.Errorf("b = %+v", b)
	}
	if inv.Vault != nil {
		t.Errorf("vault = %+v, want nil", inv.Vault)
	}
}

func TestDigestIsOfBytes(t *testing.T) {
	a, err1 := Parse("x.yaml", []byte(minimal))
	b, err2 := Parse("x.yaml", []byte(minimal+"# comment\n"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.Digest() == b.Digest() {
		t.Error("a comment must change the digest")
	}
	sum := sha256.Sum256([]byte(minimal))
	if a.Digest() != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("digest %s is not the SHA-256 of the file", a.Digest())
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var fe *FieldError
	if err == nil || errors.As(err, &fe) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error that is no FieldError", err)
	}
}

func TestExampleInDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/inventory.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(Example)+"```\n") {
		t.Error("docs/inventory.md does not contain inventory/example.yaml verbatim in a ```yaml block: copy it over")
	}
}
