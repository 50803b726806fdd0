package configedit

import (
	"os"
	"strings"
	"testing"
)

// OpenBao is another HSM, not a spelling of Vault: its block is written at
// hsm.openssf.openbao, an existing Vault block is never taken for it (nor
// it for a Vault block), and the edit is idempotent.
func TestEditConfigOpenBao(t *testing.T) {
	want := goldenSettings()["approle"]
	vaultBlock := "hsm:\n  hashicorp:\n    vault:\n      server: https://vault.example.net:8200\n      approle:\n        id: x\n        secret: y\n      transit:\n        key: k\n"
	sibling, err := os.ReadFile("testdata/config/06-openbao-sibling.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, in string
		prefer   BlockPath
		path     BlockPath
		existing bool
		keep     string // must stay in the output
	}{
		{"new", "version: v1\n", BlockOpenBao, BlockOpenBao, false, "version: v1"},
		{"beside a Vault block", vaultBlock, BlockOpenBao, BlockOpenBao, false, "    vault:\n      server: https://vault.example.net:8200"},
		{"replaces the OpenBao block", string(sibling), BlockOpenBao, BlockOpenBao, true, "# OpenBao runs next to the cluster"},
		{"Vault beside OpenBao", string(sibling), BlockHashicorpVault, BlockHashicorpVault, false, "bao.example.net"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Apply([]byte(tt.in), want, tt.prefer)
			if err != nil {
				t.Fatal(err)
			}
			if res.Path != tt.path || (res.Existing != nil) != tt.existing || !res.Changed {
				t.Fatalf("path %s existing %v changed %v", res.Path, res.Existing != nil, res.Changed)
			}
			if !strings.Contains(string(res.Output), tt.keep) {
				t.Errorf("lost %q:\n%s", tt.keep, res.Output)
			}
			ins, err := Inspect(res.Output)
			if at := map[BlockPath]bool{BlockOpenBao: ins.AtOpenBao, BlockHashicorpVault: ins.AtHashicorpVault}; err != nil || !ins.HasVault() || !at[tt.path] {
				t.Fatalf("inspect %+v %v", ins, err)
			}
			again, err := Apply(res.Output, want, tt.prefer)
			if err != nil || again.Changed {
				t.Errorf("not idempotent: %v %v", again.Changed, err)
			}
		})
	}
}

func TestInspectOpenBaoIsAnExternalBlock(t *testing.T) {
	sibling, err := os.ReadFile("testdata/config/06-openbao-sibling.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ins, err := Inspect(sibling)
	if err != nil || !ins.AtOpenBao || ins.AtHashicorpVault || !ins.HasVault() || len(ins.OtherHSMs) != 0 {
		t.Fatalf("%+v %v", ins, err)
	}
	if ins.Path != BlockOpenBao || ins.Existing == nil || ins.Existing.Server != "https://bao.example.net:8200" {
		t.Errorf("existing %+v", ins.Existing)
	}
}
