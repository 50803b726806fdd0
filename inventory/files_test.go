package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFiles: every local file the inventory names is checked, and each
// problem is named FILE:LINE:COLUMN: FIELD.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, name), mode)
	}
	write("kh", 0o644)
	write("secret", 0o640)
	write("sudo", 0o600)
	write("api-ca.pem", 0o644)
	os.Mkdir(filepath.Join(dir, "ca-dir"), 0o755)
	inv := filepath.Join(dir, "inv.yaml")
	text := `version: v1
ssh:
  identity_file: missing-key
  known_hosts: kh
  sudo_password_file: sudo
node_defaults:
  api_ca_cert: api-ca.pem
nodes:
  - {name: a, address: 10.0.0.1}
vault:
  server: https://vault:8200
  ca_cert: ca-dir
  approle: {id: role, secret_file: secret}
  transit: {key: k}
`
	if err := os.WriteFile(inv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(inv)
	if err != nil {
		t.Fatal(err)
	}
	err = loaded.CheckFiles()
	if err == nil {
		t.Fatal("no problem found")
	}
	msg := err.Error()
	for _, want := range []string{
		inv + ":3:18: ssh.identity_file: " + filepath.Join(dir, "missing-key") + " does not exist",
		inv + ":12:12: vault.ca_cert: " + filepath.Join(dir, "ca-dir") + " is a directory",
		inv + ":13:36: vault.approle.secret_file: " + filepath.Join(dir, "secret") + " holds a secret but has mode 0640",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	for _, fine := range []string{"known_hosts", "sudo_password_file", "api_ca_cert"} {
		if strings.Contains(msg, fine) {
			t.Errorf("a good file is reported (%s):\n%s", fine, msg)
		}
	}
}

func TestTabAndHints(t *testing.T) {
	tests := []struct{ text, want string }{
		{"version: v1\nnodes:\n\t- name: a\n", "inv.yaml:3:1: a tab in the indentation"},
		{"version: v1\nssh:\n  user: a\n\tport: 22\nnodes: []\n", "inv.yaml:4:1: a tab in the indentation"},
		{"version: v1\nssh: {password: x}\nnodes: [{name: a, address: b}]\n", "ssh.password: SSH passwords are not supported: kmsctl logs in with keys"},
		{"version: v1\nnodes: [{name: a, address: b, ssh: {password: x}}]\n", "nodes[0].ssh.password: SSH passwords are not supported"},
		{"version: v1\nnodes: [{name: a, address: b, sudo_password: x}]\n", "use sudo_password_file"},
	}
	for _, tt := range tests {
		_, err := Parse("inv.yaml", []byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.text, err, tt.want)
		}
	}
}
