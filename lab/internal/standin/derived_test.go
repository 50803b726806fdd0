package standin

import (
	"bytes"
	"context"
	"testing"
)

// TestDerivedKeysSurviveRetire: against a real Vault, a Vault HSM's
// inter-node key and root key seed stay the same and need no old transit key
// version after rotate + min_decryption_version (issue 16's retire).
func TestDerivedKeysSurviveRetire(t *testing.T) {
	ctx := context.Background()
	v := startRealVault(t)
	full, _ := v.setup(t)
	cfg := &VaultConfig{Server: v.addr, AppRole: &AppRoleAuth{ID: full[0], Secret: full[1], Path: "approle"},
		Transit: TransitConfig{Key: "minkms-sealing-key", Path: "transit"}}
	dir := t.TempDir()
	h1, err := NewVaultHSM(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := &Unsealed{REK: bytes.Repeat([]byte{9}, 32), Sealed: &Sealed{HSM: map[string]string{}}}
	if err := bindDerivedKeys(ctx, dir, []HSM{h1}, u); err != nil {
		t.Fatal(err)
	}
	inter1, _ := h1.InterNodeKey(ctx)
	root1, _ := h1.RootKeySeed(ctx)
	v.do(t, "POST", "transit/keys/minkms-sealing-key/rotate", map[string]string{}, nil)
	v.do(t, "POST", "transit/keys/minkms-sealing-key/config", map[string]int{"min_decryption_version": 2}, nil)
	h2, err := NewVaultHSM(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.Probe(ctx); err != nil {
		t.Fatalf("probe after retire: %v", err)
	}
	if _, _, err := h2.deriveKeys(ctx); err == nil {
		t.Fatal("Vault still HMACs with the retired version 1: the test proves nothing")
	}
	sealed, _, err := LoadSealed(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := bindDerivedKeys(ctx, dir, []HSM{h2}, &Unsealed{REK: u.REK, Sealed: sealed}); err != nil {
		t.Fatalf("bind after retire: %v", err)
	}
	inter2, _ := h2.InterNodeKey(ctx)
	root2, _ := h2.RootKeySeed(ctx)
	if !bytes.Equal(inter1, inter2) || !bytes.Equal(root1, root2) {
		t.Fatal("derived keys changed across rotate + retire")
	}
}
