package vaultcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/remote"
)

// vaultBinary is the lab's Vault build; the integration test runs only
// where it exists.
func vaultBinary() string {
	dir := os.Getenv("KMSCTL_LAB_CACHE")
	if dir == "" {
		dir = "/var/cache/kmsctl-lab"
	}
	return filepath.Join(dir, "vault-v1.21.1")
}

// devVault is a throwaway Vault dev server on loopback with a generated TLS CA.
type devVault struct {
	cmd    *exec.Cmd
	addr   string
	caFile string
	admin  *api.Client
}

func startDevVault(t *testing.T) *devVault {
	t.Helper()
	bin := vaultBinary()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Vault build at %s", bin)
	}
	dir := t.TempDir()
	hostPort := closedPort()
	cmd := exec.Command(bin, "server", "-dev", "-dev-tls", "-dev-tls-cert-dir="+dir,
		"-dev-tls-san=127.0.0.1", "-dev-listen-address="+hostPort, "-dev-no-store-token")
	rootToken := fmt.Sprintf("root-%d", time.Now().UnixNano())
	cmd.Env = append(os.Environ(), "VAULT_DEV_ROOT_TOKEN_ID="+rootToken)
	logFile, err := os.Create(filepath.Join(dir, "vault.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	dv := &devVault{cmd: cmd, addr: "https://" + hostPort, caFile: filepath.Join(dir, "vault-ca.pem")}
	dv.admin = dv.waitReady(t, rootToken)
	return dv
}

func (dv *devVault) waitReady(t *testing.T, rootToken string) *api.Client {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(dv.caFile); err == nil {
			cfg := api.DefaultConfig()
			cfg.Address = dv.addr
			if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: dv.caFile}); err != nil {
				t.Fatal(err)
			}
			c, err := api.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c.SetToken(rootToken)
			c.ClearNamespace()
			if h, err := c.Sys().Health(); err == nil && !h.Sealed {
				return c
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("Vault dev server did not become ready")
	return nil
}

// setup mirrors the lab: transit/ with the key, policies minkms (the three
// update paths), minkms-nohmac, minkms-wild (any mount, any key), approle
// roles for each.
func (dv *devVault) setup(t *testing.T) map[string][2]string {
	t.Helper()
	c := dv.admin
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Sys().Mount("transit", &api.MountInput{Type: "transit"}))
	_, err := c.Logical().Write("transit/keys/"+testKey, map[string]any{"type": "aes256-gcm96"})
	must(err)
	stanza := func(paths ...string) string {
		var b strings.Builder
		for _, p := range paths {
			b.WriteString(PolicyStanza(p) + "\n")
		}
		return b.String()
	}
	must(c.Sys().PutPolicy("minkms", stanza("transit/encrypt/"+testKey, "transit/decrypt/"+testKey, "transit/hmac/"+testKey)))
	must(c.Sys().PutPolicy("minkms-nohmac", stanza("transit/encrypt/"+testKey, "transit/decrypt/"+testKey)))
	must(c.Sys().PutPolicy("minkms-wild", stanza("+/encrypt/*", "+/decrypt/*", "+/hmac/*")))
	must(c.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}))
	creds := map[string][2]string{}
	for _, role := range []string{"minkms", "minkms-nohmac", "minkms-wild"} {
		_, err := c.Logical().Write("auth/approle/role/"+role, map[string]any{"token_policies": role})
		must(err)
		id, err := c.Logical().Read("auth/approle/role/" + role + "/role-id")
		must(err)
		sec, err := c.Logical().Write("auth/approle/role/"+role+"/secret-id", nil)
		must(err)
		creds[role] = [2]string{id.Data["role_id"].(string), sec.Data["secret_id"].(string)}
	}
	return creds
}

// TestAgainstRealVault runs the acceptance cases of issue 4 against a real
// Vault 1.21.1: each bad configuration must fail with its own message, and
// no secret id may appear anywhere in the output.
func TestAgainstRealVault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Vault server")
	}
	dv := startDevVault(t)
	creds := dv.setup(t)
	var allJSON strings.Builder
	run := func(role, mutate string) *Report {
		t.Helper()
		cfg := Config{CACertFile: dv.caFile,
			VaultSettings: configedit.VaultSettings{Server: dv.addr, AppRole: &configedit.AppRole{ID: creds[role][0], Secret: creds[role][1]}, Transit: configedit.Transit{Key: testKey}}}
		switch mutate {
		case "wrong secret":
			cfg.AppRole.Secret = "00000000-0000-0000-0000-000000000000"
		case "wrong key":
			cfg.Transit.Key = "no-such-key"
		case "wrong mount":
			cfg.Transit.Path = "kms-transit"
		case "wrong auth mount":
			cfg.AppRole.Path = "kms-approle"
		case "namespace":
			cfg.AppRole.Namespace, cfg.Transit.Namespace = "ns1", "ns1"
		}
		nodes := []remote.Node{testNode("kms-1", nil), testNode("kms-2", &net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH})}
		rep, err := Run(context.Background(), cfg, nodes, Options{Getenv: noEnv, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(rep, "", " ")
		allJSON.Write(b)
		return rep
	}
	cases := []struct {
		name, role, mutate, id, want string
	}{
		{"good role", "minkms", "", "", ""},
		{"role without hmac", "minkms-nohmac", "", "vault.capability.hmac", "lacks update on transit/hmac/" + testKey},
		{"wrong secret id", "minkms", "wrong secret", "vault.login", "invalid role or secret ID"},
		{"wrong key, exact policy", "minkms", "wrong key", "vault.capability.encrypt", `the policies grant key "minkms-sealing-key" under transit/, but the inventory names key "no-such-key": fix vault.transit.key`},
		{"wrong key, wildcard policy", "minkms-wild", "wrong key", "transit.hmac", `transit key "no-such-key" does not exist at transit/ (400 encryption key not found)`},
		{"wrong transit mount, exact policy", "minkms", "wrong mount", "vault.capability.hmac", `the policies grant key "minkms-sealing-key" under mount transit/, but the inventory names mount kms-transit/: fix vault.transit.path`},
		{"wrong transit mount", "minkms-wild", "wrong mount", "transit.hmac", "no secrets engine is mounted at kms-transit/ (404 no handler for route)"},
		{"wrong auth mount", "minkms", "wrong auth mount", "vault.login", "403 permission denied): Vault answers this when no auth method is mounted at kms-approle/"},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		rep := run(tc.role, tc.mutate)
		got := byKey(rep)
		if n := got["node.vault@kms-2"]; n.Status != Fail || !strings.Contains(n.Message, "node kms-2 cannot reach Vault at 127.0.0.1:") {
			t.Errorf("%s: node kms-2: %v %q", tc.name, n.Status, n.Message)
		}
		if tc.id == "" {
			for _, c := range rep.Checks {
				if c.Status == Fail && c.Node != "kms-2" {
					t.Errorf("%s: %s failed: %s", tc.name, c.ID, c.Message)
				}
			}
			if got["node.vault@kms-1"].Status != Pass || got["transit.decrypt"].Status != Pass {
				t.Errorf("%s: node or round trip did not pass: %+v", tc.name, rep.Checks)
			}
			continue
		}
		c := got[tc.id]
		if c.Status != Fail || !strings.Contains(c.Message, tc.want) {
			t.Errorf("%s: %s = %v %q, want fail containing %q", tc.name, tc.id, c.Status, c.Message, tc.want)
		}
		if prev, dup := seen[c.Message]; dup {
			t.Errorf("%s and %s give the same message %q", tc.name, prev, c.Message)
		}
		seen[c.Message] = tc.name
		t.Logf("%s: %s: %s (transit.hmac: %s)", tc.name, tc.id, c.Message, got["transit.hmac"].Message)
	}
	if hmac := byKey(run("minkms-nohmac", ""))["vault.capability.hmac"]; hmac.Fix != PolicyStanza("transit/hmac/"+testKey) {
		t.Errorf("no-hmac fix = %q", hmac.Fix)
	}
	// Open-source Vault ignores X-Vault-Namespace: a warning, and the rest works.
	ns := byKey(run("minkms", "namespace"))
	if c := ns["vault.namespace"]; c.Status != Warn || !strings.Contains(c.Message, "open-source") {
		t.Errorf("namespace on open-source Vault: %v %q", c.Status, c.Message)
	}
	if ns["vault.login"].Status != Pass || ns["transit.decrypt"].Status != Pass {
		t.Errorf("namespace on open-source Vault: login %v, decrypt %v; want both pass", ns["vault.login"].Status, ns["transit.decrypt"].Status)
	}
	// Sealed, then stopped.
	if err := dv.admin.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	if c := byKey(run("minkms", ""))["vault.reachable"]; c.Status != Fail || !strings.Contains(c.Message, "is sealed (503)") {
		t.Errorf("sealed: %v %q", c.Status, c.Message)
	}
	_ = dv.cmd.Process.Kill()
	_ = dv.cmd.Wait()
	if c := byKey(run("minkms", ""))["vault.reachable"]; c.Status != Fail || !strings.Contains(c.Message, "connection refused") {
		t.Errorf("stopped: %v %q", c.Status, c.Message)
	}
	for role, cr := range creds {
		if strings.Contains(allJSON.String(), cr[1]) {
			t.Errorf("the secret id of %s appears in the output", role)
		}
	}
	if strings.Contains(allJSON.String(), "vault:v1:") || strings.Contains(allJSON.String(), "hvs.") {
		t.Error("a ciphertext, HMAC or token appears in the output")
	}
}
