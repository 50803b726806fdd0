package configedit

import (
	"os"
	"strings"
	"testing"
)

func TestInspectConfig(t *testing.T) {
	approle := goldenSettings()["approle"]
	read := func(name string) string {
		b, err := os.ReadFile("testdata/config/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name, in      string
		atHC, atV     bool
		path          BlockPath
		matches       bool
		unknown, hsms string
	}{
		{"no hsm", read("01-lab-initial.yaml"), false, false, BlockHashicorpVault, false, "", ""},
		{"current block", read("13-already-current.yaml"), true, false, BlockHashicorpVault, true, "", ""},
		{"docs spelling", read("02-docs-example-hsm-vault.yaml"), false, true, BlockVault, false, "", ""},
		{"unknown keys", read("22-existing-unknown-keys.yaml"), true, false, BlockHashicorpVault, false, "engine,approle.retry", ""},
		{"siblings", read("19-vault-in-middle.yaml"), true, false, BlockHashicorpVault, false, "", "minio"},
		{"both spellings", "hsm:\n  vault: {}\n  hashicorp:\n    vault: {}\n    other: 1\n  pkcs11: {}\n", true, true, BlockHashicorpVault, false, "", "hashicorp.other,pkcs11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ins, err := Inspect([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			got := []any{ins.AtHashicorpVault, ins.AtVault, ins.Path, ins.Matches(approle), strings.Join(ins.Unknown, ","), strings.Join(ins.OtherHSMs, ",")}
			want := []any{c.atHC, c.atV, c.path, c.matches, c.unknown, c.hsms}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
			if ins.HasVault() != (c.atHC || c.atV) {
				t.Fatalf("HasVault() = %v", ins.HasVault())
			}
		})
	}
	if _, err := Inspect([]byte("a: 1\n---\nb: 2\n")); err == nil {
		t.Fatal("two documents: want an error")
	}
}

func TestInspectConfigUnreadableBlock(t *testing.T) {
	ins, err := Inspect([]byte("hsm:\n  vault:\n    approle: [a, b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ins.Existing != nil || ins.Problem == "" || !ins.HasVault() {
		t.Fatalf("got %+v, want a problem and no settings", ins)
	}
}
