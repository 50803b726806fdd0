package standin

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestVaultHSMAuthAndHeaders(t *testing.T) {
	ctx := context.Background()
	v := newFakeVault(t)
	jwtFile := filepath.Join(t.TempDir(), "k8s-token")
	writeFile(t, jwtFile, fakeJWT+"\n")
	tests := []struct {
		name      string
		cfg       VaultConfig
		loginPath string
		loginNS   string
	}{
		{"approle default path", VaultConfig{AppRole: &AppRoleAuth{ID: fakeRoleID, Secret: fakeSecretID, Path: "approle"}},
			"/v1/auth/approle/login", ""},
		{"approle custom path and namespace", VaultConfig{AppRole: &AppRoleAuth{ID: fakeRoleID, Secret: fakeSecretID, Path: "kms-approle", Namespace: "ns-1"}},
			"/v1/auth/kms-approle/login", "ns-1"},
		{"kubernetes jwt file", VaultConfig{Kubernetes: &KubernetesAuth{Role: "minkms", JWT: jwtFile, Path: "kubernetes"}},
			"/v1/auth/kubernetes/login", ""},
		{"kubernetes inline jwt", VaultConfig{Kubernetes: &KubernetesAuth{Role: "minkms", JWT: fakeJWT, Path: "k8s", Namespace: "ns-k"}},
			"/v1/auth/k8s/login", "ns-k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Server = v.URL
			cfg.Transit = TransitConfig{Key: "k", Path: "kms-transit", Namespace: "ns-t"}
			h, err := NewVaultHSM(ctx, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.namespaceOf(tt.loginPath); got != tt.loginNS {
				t.Errorf("login namespace = %q, want %q", got, tt.loginNS)
			}
			ct, err := h.Seal(ctx, []byte("0123456789abcdef0123456789abcdef"))
			if err != nil || !strings.HasPrefix(ct, "vault:v1:") {
				t.Fatalf("seal: %q, %v", ct, err)
			}
			if v.namespaceOf("/v1/kms-transit/encrypt/k") != "ns-t" {
				t.Error("transit call without the transit namespace")
			}
			pt, err := h.Unseal(ctx, ct)
			if err != nil || string(pt) != "0123456789abcdef0123456789abcdef" {
				t.Fatalf("unseal: %q, %v", pt, err)
			}
			if h.Name() != "vault:kms-transit/k" {
				t.Errorf("name = %s", h.Name())
			}
		})
	}
}

func TestVaultHSMFailures(t *testing.T) {
	ctx := context.Background()
	v := newFakeVault(t)
	cfg := VaultConfig{Server: v.URL, AppRole: &AppRoleAuth{ID: fakeRoleID, Secret: "wrong-secret", Path: "approle"},
		Transit: TransitConfig{Key: "k", Path: "transit"}}
	_, err := NewVaultHSM(ctx, &cfg)
	if err == nil || !strings.Contains(err.Error(), "invalid role or secret ID") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("bad secret: %v", err)
	}
	cfg.AppRole.Secret = fakeSecretID
	h, err := NewVaultHSM(ctx, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := h.InterNodeKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := h.InterNodeKey(ctx)
	if !bytes.Equal(k1, k2) || len(k1) != 32 {
		t.Errorf("inter-node key is not stable: %x %x", k1, k2)
	}
	v.denyHMAC()
	if err := h.Probe(ctx); err == nil || !strings.Contains(err.Error(), "hmac: POST") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("no hmac: %v", err)
	}
	if _, err := h.Unseal(ctx, "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err == nil {
		t.Fatal("garbage ciphertext unsealed")
	}
}

func TestVaultHSMTLS(t *testing.T) {
	ctx := context.Background()
	v, ca := newFakeVaultTLS(t)
	cfg := VaultConfig{Server: v.URL, AppRole: &AppRoleAuth{ID: fakeRoleID, Secret: fakeSecretID, Path: "approle"},
		Transit: TransitConfig{Key: "k", Path: "transit"}}
	if _, err := NewVaultHSM(ctx, &cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without tls.ca (system roots) the test CA must be refused: %v", err)
	}
	cfg.TLS.CA = ca
	if _, err := NewVaultHSM(ctx, &cfg); err != nil {
		t.Fatalf("with tls.ca: %v", err)
	}
}

func TestEntryKeyVersion(t *testing.T) {
	for _, tt := range []struct {
		entry string
		v     int
		ok    bool
	}{
		{"vault:v1:abc", 1, true},
		{"vault:v12:abc", 12, true},
		{"vault:v0:abc", 0, false},
		{"vault:vx:abc", 0, false},
		{"AAAA", 0, false},
	} {
		if v, ok := EntryKeyVersion(tt.entry); v != tt.v || ok != tt.ok {
			t.Errorf("EntryKeyVersion(%q) = %d %v", tt.entry, v, ok)
		}
	}
}
