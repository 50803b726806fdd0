package vaultlab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	full := Config{Dir: "d", SecretsDir: "s", Addr: "10.213.0.1:8200", CertFile: "c", KeyFile: "k", CAFile: "ca"}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"complete", func(*Config) {}, ""},
		{"no Dir", func(c *Config) { c.Dir = "" }, "Dir"},
		{"no SecretsDir", func(c *Config) { c.SecretsDir = "" }, "SecretsDir"},
		{"no Addr", func(c *Config) { c.Addr = "" }, "Addr"},
		{"no CAFile", func(c *Config) { c.CAFile = "" }, "CAFile"},
		{"dev listener on the bridge", func(c *Config) { c.DevAddr = "10.213.0.1:8210" }, "loopback"},
		{"dev listener by name", func(c *Config) { c.DevAddr = "localhost:8210" }, "loopback"},
		{"dev listener without port", func(c *Config) { c.DevAddr = "127.0.0.1" }, "dev address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := full
			tt.edit(&c)
			got, err := c.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.DevAddr != DefaultDevAddr || got.Binary != BinaryPath() {
				t.Errorf("%+v, %v", got, err)
			}
		})
	}
}

func TestBinaryPath(t *testing.T) {
	t.Setenv("KMSCTL_LAB_CACHE", "")
	if got := BinaryPath(); got != "/var/cache/kmsctl-lab/vault-v1.21.1" {
		t.Errorf("default %q", got)
	}
	t.Setenv("KMSCTL_LAB_CACHE", "/x/cache")
	if got := BinaryPath(); got != "/x/cache/vault-v1.21.1" {
		t.Errorf("with KMSCTL_LAB_CACHE %q", got)
	}
}

func TestStartWithoutBinary(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Dir: filepath.Join(dir, "vault"), SecretsDir: filepath.Join(dir, "secrets"),
		Binary: filepath.Join(dir, "no-vault"), Addr: "127.0.0.1:1",
		CertFile: "c", KeyFile: "k", CAFile: "ca",
	}
	if _, err := Start(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "binary missing") {
		t.Errorf("err %v, want ErrNoBinary", err)
	}
}

func TestWriteSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "s")
	for _, v := range []string{"first", "second"} {
		if err := writeSecret(path, v); err != nil {
			t.Fatal(err)
		}
		got, err := readSecret(path)
		if err != nil || got != v {
			t.Errorf("read %q, %v; want %q", got, err, v)
		}
	}
	st, _ := os.Stat(path)
	dst, _ := os.Stat(filepath.Dir(path))
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", st.Mode().Perm(), dst.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := readSecret(empty); err == nil {
		t.Error("empty secret accepted")
	}
}

func TestTransitPolicy(t *testing.T) {
	got := labPolicies()[PolicyNoHMAC]
	want := "path \"transit/encrypt/minkms-sealing-key\" {\n   capabilities = [ \"update\" ]\n}\n" +
		"path \"transit/decrypt/minkms-sealing-key\" {\n   capabilities = [ \"update\" ]\n}\n"
	if got != want {
		t.Errorf("nohmac policy:\n%s\nwant:\n%s", got, want)
	}
	if n := strings.Count(labPolicies()[Policy2], "path \"kms-transit/"); n != 3 {
		t.Errorf("minkms2 policy has %d kms-transit paths, want 3", n)
	}
}

func TestBuildOnlyWhenMissing(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("KMSCTL_LAB_CACHE", cache)
	noLab := filepath.Join(t.TempDir(), "no-lab")
	// Missing binary: Build must try, and fail on the missing module.
	if err := Build(t.Context(), noLab); err == nil {
		t.Fatal("Build without binary and without lab/vault succeeded")
	}
	if _, err := os.Stat(BinaryPath()); err == nil {
		t.Error("a failed build left a binary behind")
	}
	// Present binary: Build must not touch it (no go build at all).
	if err := os.WriteFile(BinaryPath(), []byte("cached"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Build(t.Context(), noLab); err != nil {
		t.Errorf("Build with a cached binary: %v", err)
	}
}
