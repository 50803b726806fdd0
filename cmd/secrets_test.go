package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/inventory"
)

func TestAPIKeySources(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "api-key")
	if err := os.WriteFile(keyFile, []byte("k1:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, env, want string
	}{
		{"file wins", keyFile, "k1:from-env", "k1:from-file"},
		{"env", "", "k1:from-env", "k1:from-env"},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _ := testFactory(nil, nil, map[string]string{"MINIO_KMS_API_KEY": tt.env})
			f.Global.APIKeyFile = tt.file
			got, err := f.APIKey()
			if err != nil || got != tt.want {
				t.Errorf("APIKey() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSudoPasswordSources(t *testing.T) {
	dir := t.TempDir()
	nodeFile := filepath.Join(dir, "node-pw")
	globalFile := filepath.Join(dir, "global-pw")
	for p, v := range map[string]string{nodeFile: "node-secret\n", globalFile: "global-secret\n"} {
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, _, errOut := testFactory(nil, nil, nil)
	f.Global.SudoPasswordFile = globalFile
	nodes := []inventory.Node{
		{Name: "a", SSH: inventory.SSH{SudoPasswordFile: nodeFile}},
		{Name: "b"},
		{Name: "c"},
	}
	opts := f.dialerOptions(nodes)
	if opts.SudoPasswordFiles["a"] != nodeFile || opts.SudoPasswordFiles["b"] != globalFile {
		t.Fatalf("password files = %v", opts.SudoPasswordFiles)
	}
	for name, want := range map[string]string{"a": "node-secret", "b": "global-secret"} {
		got, err := opts.SudoPassword(opts.SudoPasswordFiles[name])
		if err != nil || string(got) != want {
			t.Errorf("node %s: password %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := opts.SudoPassword(""); err == nil || !strings.Contains(err.Error(), "sudo_password_file") {
		t.Errorf("no file and no terminal: err = %v, want a hint", err)
	}
	if strings.Contains(errOut.String(), "secret") {
		t.Errorf("a password leaked to stderr: %q", errOut)
	}
	d, err := newSSHDialer(opts)
	if err != nil {
		t.Fatal(err)
	}
	rd := d.(*routingDialer)
	if rd.dialer(nodeFile) == rd.dialer(globalFile) || rd.dialer(globalFile) != rd.dialer(globalFile) {
		t.Error("each password source needs its own SSH dialer, shared by its nodes")
	}
}

func TestSecretNeverInArgs(t *testing.T) {
	f, _, errOut := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"status", "--sudo-password", "x"}); code != ExitUsage {
		t.Errorf("a password flag must not exist: exit %d, %s", code, errOut)
	}
}
