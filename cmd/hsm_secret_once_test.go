package cmd

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck/vaultchecktest"
)

// TestEnableVaultAsksForTheSecretOnce: with neither secret_file nor
// secret_env the approle secret id is asked for on the terminal, once per
// run, and that one answer reaches both the Vault check and the rollout
// (issue 10: it used to be asked for twice). The dry run runs both: the
// plan and the Vault check of the preflight.
func TestEnableVaultAsksForTheSecretOnce(t *testing.T) {
	s, inv, vault := secretOnceScenario(t)
	var asked []string
	prompt := func(label string) ([]byte, error) {
		asked = append(asked, label)
		return []byte(vaultchecktest.SecretID), nil
	}
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	f.Global.Inventory, f.Global.Parallel, f.Global.Timeout = inv, 4, 5*time.Second
	c := newCmdHSMEnableVault(f, func(ctx context.Context, o *HSMEnableVaultOptions) error {
		o.Secrets.Prompt = prompt
		o.StateDir = t.TempDir()
		return runHSMEnableVault(ctx, o)
	})
	c.SetArgs([]string{"--dry-run"})
	c.SetOut(f.IO.Out)
	c.SetErr(f.IO.ErrOut)
	_ = c.ExecuteContext(context.Background())
	if len(asked) != 1 {
		t.Errorf("asked for the secret %d times (%q), want once; stderr: %s", len(asked), asked, errOut)
	}
	if !strings.Contains(strings.Join(vault.Bodies(), "\n"), vaultchecktest.SecretID) {
		t.Errorf("the Vault check never logged in with the prompted secret; stderr: %s", errOut)
	}
	if strings.Contains(out.String(), "Vault checks failed") || !strings.Contains(out.String(), "kms-1") {
		t.Errorf("the dry run's Vault check did not pass with the prompted secret:\n%s", out)
	}
}

// secretOnceScenario is the fake 3-node cluster of the hsm tests with the
// fake Vault of the vault check tests, which the nodes reach, and an
// inventory whose approle has no secret source: the only one is the prompt.
func secretOnceScenario(t *testing.T) (*scenario, string, *vaultchecktest.FakeVault) {
	t.Helper()
	s := newScenario()
	s.env["MINIO_KMS_API_KEY"] = "k1:fake"
	e := newVCEnv(t)
	e.login = "    approle:\n      id: " + vaultchecktest.RoleID + "\n"
	u, err := url.Parse(e.vault.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.nodes {
		n.ForwardTCP(u.Host, u.Host)
	}
	return s, e.inventory(t, ""), e.vault
}

// TestVaultSettingsFromInventory: the one mapper from the inventory to the
// settings carries every field, the secret from its source, and leaves
// unnamed mounts to the block's defaults.
func TestVaultSettingsFromInventory(t *testing.T) {
	inv := &inventory.Inventory{File: "inv.yaml", Vault: &inventory.Vault{Server: "https://v:8200",
		AppRole: &inventory.AppRole{ID: "role", SecretEnv: "SECRET_VAR", Namespace: "ns"},
		Transit: inventory.Transit{Key: "k", Namespace: "tns"}}}
	s, err := vaultSettings(inv, inventory.SecretOptions{Getenv: func(k string) string { return map[string]string{"SECRET_VAR": "s3cret"}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	want := configedit.VaultSettings{Server: "https://v:8200", AppRole: &configedit.AppRole{ID: "role", Secret: "s3cret", Namespace: "ns"},
		Transit: configedit.Transit{Key: "k", Namespace: "tns"}}
	if !s.Equal(want) || s.AppRole.MountPath() != "approle" || s.Transit.MountPath() != "transit" {
		t.Errorf("settings %+v, want %+v with default mounts", s, want)
	}
	inv.Vault.AppRole, inv.Vault.Kubernetes = nil, &inventory.Kubernetes{Role: "r", JWT: "/etc/minkms/k8s-token", Path: "k8s"}
	if s, err = vaultSettings(inv, inventory.SecretOptions{}); err != nil || s.Kubernetes == nil || s.Kubernetes.JWT != "/etc/minkms/k8s-token" || s.Kubernetes.MountPath() != "k8s" {
		t.Errorf("kubernetes settings %+v, %v", s.Kubernetes, err)
	}
	if _, err := vaultSettings(&inventory.Inventory{File: "inv.yaml"}, inventory.SecretOptions{}); err == nil || !strings.Contains(err.Error(), "no vault section") {
		t.Errorf("no vault section: %v", err)
	}
}
