package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/inventory"
)

func TestInventoryInit(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	t.Setenv("HOME", home) // the example's ~/ files are created below
	for _, p := range []string{".ssh/id_ed25519", ".ssh/known_hosts", "kms/vault-ca.pem", "kms/approle-secret-id"} {
		os.MkdirAll(filepath.Dir(filepath.Join(home, p)), 0o700)
		if err := os.WriteFile(filepath.Join(home, p), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "inv.yaml")
	f, stdout, _ := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"inventory", "init"}); code != ExitOK || !bytes.Equal(stdout.Bytes(), inventory.Example) {
		t.Fatalf("init to stdout: exit %d, output differs from the example", code)
	}
	steps := []struct {
		args []string
		want int
	}{
		{[]string{"inventory", "init", "--out", out}, ExitOK},
		{[]string{"inventory", "init", "--out", out}, ExitUsage},
		{[]string{"inventory", "init", "--out", out, "--force"}, ExitOK},
		{[]string{"inventory", "validate", "-i", out}, ExitOK},
	}
	for _, s := range steps {
		f, _, errOut := testFactory(nil, nil, nil)
		if code := Main(context.Background(), f, s.args); code != s.want {
			t.Fatalf("%v: exit %d, want %d: %s", s.args, code, s.want, errOut)
		}
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, inventory.Example) {
		t.Errorf("written file differs from the example (%v)", err)
	}
}

func TestInventoryValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(bad, []byte("version: v1\nnodes:\n  - {name: a, address: 'x y'}\n  - {name: a, address: b, unit: 'u;x'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("version: v1\nnodes:\n  - {name: a, address: b}\n  - {name: c, address: d}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{"good", []string{"-i", good}, ExitOK, good + ": OK, 2 nodes", ""},
		{"bad lists every problem", []string{"-i", bad}, ExitUsage, "", bad + ":3:24: nodes[0].address: must be an IP address or a host name\n" +
			bad + ":4:5: nodes[1].name: duplicate node name \"a\" (first at line 3)\n" +
			bad + ":4:33: nodes[1].unit: must match"},
		{"missing file", []string{"-i", filepath.Join(dir, "none.yaml")}, ExitUsage, "", "no such file"},
		{"no -i", nil, ExitUsage, "", "pass the inventory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory(nil, nil, nil)
			code := Main(context.Background(), f, append([]string{"inventory", "validate"}, tt.args...))
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErrOut) {
				t.Errorf("stdout %q (want %q)\nstderr %q (want %q)", out, tt.wantOut, errOut, tt.wantErrOut)
			}
		})
	}
}

func TestInventoryValidateJSON(t *testing.T) {
	f, out, _ := testFactory(nil, nil, nil)
	code := Main(context.Background(), f, []string{"inventory", "validate", "-o", "json", "-i", "testdata/status-inventory.yaml"})
	var v validation
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	raw, err := os.ReadFile("testdata/status-inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if !v.Valid || v.Schema != "kmsctl.inventory-validation/v1" || strings.Join(v.Nodes, ",") != "kms-1,kms-2,kms-3" || v.Digest != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("unexpected document: %+v", v)
	}
}

func TestInventorySchemaCommand(t *testing.T) {
	f, out, _ := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"inventory", "schema"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var s map[string]any
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || s["$id"] != inventory.SchemaID {
		t.Fatalf("not the schema: %v %v", err, s["$id"])
	}
}
