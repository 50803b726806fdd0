package standin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func discard(string, ...any) {}

func mustLocal(t *testing.T, key string) *LocalHSM {
	t.Helper()
	h, err := ParseLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseLocalKey(t *testing.T) {
	for _, bad := range []string{"", "hsm:aes256:", "hsm:chacha20:AAAA", "hsm:aes256:c2hvcnQ=", "aes256:" + strings.Repeat("A", 44)} {
		if _, err := ParseLocalKey(bad); err == nil {
			t.Errorf("ParseLocalKey(%q) accepted", bad)
		}
	}
	if _, err := ParseLocalKey(newLocalKey(t)); err != nil {
		t.Error(err)
	}
}

func TestUnsealLocal(t *testing.T) {
	ctx := context.Background()
	vol := filepath.Join(t.TempDir(), "vol")
	key := newLocalKey(t)
	first, err := Unseal(ctx, vol, []HSM{mustLocal(t, key)}, discard)
	if err != nil {
		t.Fatal(err)
	}
	if first.By != "" || len(first.REK) != 32 || first.Sealed.Names()[0] != "local" {
		t.Fatalf("first start: %+v", first)
	}
	again, err := Unseal(ctx, vol, []HSM{mustLocal(t, key)}, discard)
	if err != nil || again.By != "local" || !bytes.Equal(again.REK, first.REK) {
		t.Fatalf("restart: %+v, %v", again, err)
	}
	_, err = Unseal(ctx, vol, []HSM{mustLocal(t, newLocalKey(t))}, discard)
	if err == nil || !strings.Contains(err.Error(), "local: wrong key") {
		t.Fatalf("wrong key: %v", err)
	}
	_, err = Unseal(ctx, vol, nil, discard)
	if err == nil || !strings.Contains(err.Error(), "MINIO_KMS_HSM_KEY is not set") {
		t.Fatalf("no key: %v", err)
	}
	entries, _ := os.ReadDir(vol)
	if len(entries) != 1 || entries[0].Name() != "rek.json" {
		t.Errorf("volume holds %v, want only rek.json", entries)
	}
}

// fakeHSM is an in-memory second HSM (stands for Vault in unit tests).
type fakeHSM struct {
	name    string
	inner   *LocalHSM
	sealErr error
}

func (f *fakeHSM) Name() string { return f.name }
func (f *fakeHSM) Seal(ctx context.Context, rek []byte) (string, error) {
	if f.sealErr != nil {
		return "", f.sealErr
	}
	return f.inner.Seal(ctx, rek)
}
func (f *fakeHSM) Unseal(ctx context.Context, e string) ([]byte, error) {
	return f.inner.Unseal(ctx, e)
}
func (f *fakeHSM) InterNodeKey(ctx context.Context) ([]byte, error) { return f.inner.InterNodeKey(ctx) }
func (f *fakeHSM) RootKeySeed(ctx context.Context) ([]byte, error)  { return f.inner.RootKeySeed(ctx) }

func TestUnsealAddsAndKeepsEntries(t *testing.T) {
	ctx := context.Background()
	vol := t.TempDir()
	local := mustLocal(t, newLocalKey(t))
	vault := &fakeHSM{name: "vault:transit/k", inner: mustLocal(t, newLocalKey(t))}
	first, err := Unseal(ctx, vol, []HSM{local}, discard)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, f) }
	both, err := Unseal(ctx, vol, []HSM{local, vault}, logf)
	if err != nil || both.By != "local" {
		t.Fatalf("with vault added: %+v, %v", both, err)
	}
	onDisk, _, _ := LoadSealed(vol)
	if got := strings.Join(onDisk.Names(), ","); got != "local,vault:transit/k" {
		t.Fatalf("rek.json entries = %s", got)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "sealed the root encryption key for") {
		t.Errorf("log = %v", logged)
	}
	vaultOnly, err := Unseal(ctx, vol, []HSM{vault}, discard)
	if err != nil || vaultOnly.By != "vault:transit/k" || !bytes.Equal(vaultOnly.REK, first.REK) {
		t.Fatalf("vault only: %+v, %v", vaultOnly, err)
	}
	onDisk, _, _ = LoadSealed(vol)
	if len(onDisk.HSM) != 2 {
		t.Errorf("the local entry was not kept: %v", onDisk.Names())
	}
	other := &fakeHSM{name: "vault:transit/k", inner: mustLocal(t, newLocalKey(t))}
	if _, err := Unseal(ctx, vol, []HSM{other}, discard); err == nil || !strings.Contains(err.Error(), "entries: local, vault:transit/k") {
		t.Fatalf("different vault key: %v", err)
	}
}

func TestUnsealFailsWhenNewEntryCannotBeSealed(t *testing.T) {
	ctx := context.Background()
	vol := t.TempDir()
	local := mustLocal(t, newLocalKey(t))
	if _, err := Unseal(ctx, vol, []HSM{local}, discard); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(vol, "rek.json"))
	broken := &fakeHSM{name: "vault:transit/k", inner: local, sealErr: errors.New("permission denied")}
	if _, err := Unseal(ctx, vol, []HSM{local, broken}, discard); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(vol, "rek.json"))
	if !bytes.Equal(before, after) {
		t.Error("rek.json changed by a failed start")
	}
}
