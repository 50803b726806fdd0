package vaultcheck

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck/vaultchecktest"
)

func keyAdminConfig(t *testing.T, v *vaultchecktest.FakeVault) Config {
	return Config{CACertFile: v.WriteCA(t), VaultSettings: configedit.VaultSettings{Server: v.URL(),
		AppRole: &configedit.AppRole{ID: testRoleID, Secret: testSecretID}, Transit: configedit.Transit{Key: testKey}}}
}

func TestKeyAdminRotateAndRetire(t *testing.T) {
	v := vaultchecktest.New(t)
	for _, p := range []string{"transit/keys/" + testKey + "/rotate", "transit/keys/" + testKey + "/config"} {
		v.Caps[p] = []string{"update"}
	}
	v.Caps["transit/keys/"+testKey] = []string{"read"}
	ctx := context.Background()
	k, err := NewKeyAdmin(ctx, keyAdminConfig(t, v), AdminLogin{AppRole: &configedit.AppRole{ID: testRoleID, Secret: testSecretID}}, Options{Getenv: noEnv})
	if err != nil {
		t.Fatalf("NewKeyAdmin: %v", err)
	}
	if err := k.CheckPermissions(ctx, true, true); err != nil {
		t.Fatalf("CheckPermissions: %v", err)
	}
	if err := k.Rotate(ctx); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if err := k.SetMinDecryptionVersion(ctx, 2); err != nil {
		t.Fatalf("SetMinDecryptionVersion: %v", err)
	}
	latest, minDec, err := k.Versions(ctx)
	if err != nil || latest != 2 || minDec != 2 {
		t.Fatalf("Versions = %d %d %v, want 2 2", latest, minDec, err)
	}
	if err := k.SetMinDecryptionVersion(ctx, 5); err == nil || !strings.Contains(err.Error(), "greater than the latest") {
		t.Errorf("min above latest: %v", err)
	}
}

func TestKeyAdminPermissionsNamedUpFront(t *testing.T) {
	v := vaultchecktest.New(t)
	v.Caps["transit/keys/"+testKey] = []string{"read"}
	ctx := context.Background()
	k, err := NewKeyAdmin(ctx, keyAdminConfig(t, v), AdminLogin{Token: testToken}, Options{Getenv: noEnv})
	if err != nil {
		t.Fatalf("NewKeyAdmin: %v", err)
	}
	if err := k.CheckPermissions(ctx, false, false); err != nil {
		t.Errorf("read only: %v", err)
	}
	err = k.CheckPermissions(ctx, true, true)
	for _, want := range []string{`path "transit/keys/` + testKey + `/rotate"`, `path "transit/keys/` + testKey + `/config"`, `"update"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	if v.Latest != 1 || v.MinDecryption != 1 {
		t.Error("a permission check changed the key")
	}
}

func TestKeyAdminLoginErrorsHoldNoSecret(t *testing.T) {
	v := vaultchecktest.New(t)
	_, err := NewKeyAdmin(context.Background(), keyAdminConfig(t, v), AdminLogin{AppRole: &configedit.AppRole{ID: testRoleID, Secret: "wrong-SHOULD-NEVER-APPEAR"}}, Options{Getenv: noEnv})
	if err == nil || strings.Contains(err.Error(), "SHOULD-NEVER-APPEAR") || !strings.Contains(err.Error(), "invalid role or secret ID") {
		t.Errorf("err = %v", err)
	}
	_, err = NewKeyAdmin(context.Background(), keyAdminConfig(t, v), AdminLogin{}, Options{Getenv: noEnv})
	if err == nil || !strings.Contains(err.Error(), "no Vault token") {
		t.Errorf("no login: %v", err)
	}
}

func TestKeyAdminNodeReaches(t *testing.T) {
	v := vaultchecktest.New(t)
	ctx := context.Background()
	k, err := NewKeyAdmin(ctx, keyAdminConfig(t, v), AdminLogin{Token: testToken}, Options{Getenv: noEnv})
	if err != nil {
		t.Fatalf("NewKeyAdmin: %v", err)
	}
	if err := k.NodeReaches(ctx, testNode("kms-1", nil)); err != nil {
		t.Errorf("reachable node: %v", err)
	}
	err = k.NodeReaches(ctx, testNode("kms-2", errors.New("ssh: rejected: connect failed (Connection timed out)")))
	if err == nil || !strings.Contains(err.Error(), "kms-2") {
		t.Errorf("cut-off node: %v", err)
	}
}
