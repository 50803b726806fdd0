package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

const transitKey = "transit/keys/minkms-sealing-key"

// vaultRoot is a Vault client with the lab's root token (lab administration:
// reading the key's versions and proving what Vault refuses).
func (l *lab) vaultRoot(t *testing.T) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = l.getenv("VAULT_ADDR")
	if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: l.getenv("VAULT_CACERT")}); err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(l.getenv("VAULT_TOKEN_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(strings.TrimSpace(string(tok)))
	return c
}

// keyVersions reads latest_version and min_decryption_version of the key.
func (l *lab) keyVersions(t *testing.T) (latest, minDec int) {
	t.Helper()
	s, err := l.vaultRoot(t).Logical().Read(transitKey)
	if err != nil || s == nil {
		t.Fatalf("read %s: %v", transitKey, err)
	}
	n := func(k string) int {
		v, _ := s.Data[k].(json.Number).Int64()
		return int(v)
	}
	return n("latest_version"), n("min_decryption_version")
}

// keepKeyUsable puts min_decryption_version back to 1 after the test, so
// later tests (and resets) never meet a retired version by surprise.
func (l *lab) keepKeyUsable(t *testing.T) {
	t.Cleanup(func() {
		_, _ = l.vaultRoot(t).Logical().Write(transitKey+"/config", map[string]any{"min_decryption_version": 1})
	})
}

// rotateArgs is `kmsctl hsm rotate` with the lab's rotation identity (its
// own approle: the nodes' policy has no rotate or config permission).
func (l *lab) rotateArgs(extra ...string) []string {
	args := append([]string{"hsm", "rotate", "-i", l.inventory(), "--yes",
		"--admin-role-id", l.getenv("LAB_ROTATE_ROLE_ID"), "--admin-secret-id-file", l.getenv("LAB_ROTATE_SECRET_FILE")}, fast...)
	return append(args, extra...)
}

// migrated resets the lab and migrates it to Vault (purged).
func (l *lab) migrated(t *testing.T) {
	t.Helper()
	if l.getenv("LAB_ROTATE_ROLE_ID") == "" {
		t.Skip("this lab has no rotation identity (LAB_ROTATE_ROLE_ID): start it with the current lab/lab up")
	}
	l.reset(t)
	must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "enable-vault")
}

var entryVersion = regexp.MustCompile(`(?:vault|openbao):[^\s,]*@v(\d+)`)

// sealedVersions reads, from `lab status`, the transit key version each
// node's Vault entry is sealed with (the stand-in's ciphertext tells it;
// the product does not report it).
func (l *lab) sealedVersions(t *testing.T) map[string]string {
	t.Helper()
	out := must(t, l.labCmd(t, "status"), "lab status").stdout
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !slices.Contains(l.nodes, f[0]) {
			continue
		}
		if m := entryVersion.FindStringSubmatch(line); m != nil {
			got[f[0]] = m[1]
		}
	}
	return got
}

// vaultEntry returns a node's sealed Vault entry (a transit ciphertext).
func (l *lab) vaultEntry(t *testing.T, node string) string {
	t.Helper()
	var rek struct {
		HSM map[string]string `json:"hsm"`
	}
	if err := json.Unmarshal([]byte(l.file(t, node, "/var/lib/minkms/rek.json")), &rek); err != nil {
		t.Fatal(err)
	}
	for _, e := range rek.HSM {
		if strings.HasPrefix(e, "vault:v") {
			return e
		}
	}
	t.Fatalf("%s has no Vault entry: %v", node, rek.HSM)
	return ""
}

// Rotate, re-seal and retire on a migrated lab: every node's entry is
// under the new version, every node was restarted (followers first, the
// leader last) and unseals, and Vault refuses the old entry.
func TestRotateResealRetire(t *testing.T) {
	l := needLab(t)
	l.migrated(t)
	l.keepKeyUsable(t)
	before, _ := l.keyVersions(t)
	oldEntry := l.vaultEntry(t, l.nodes[0])
	plan := must(t, l.kmsctl(t, nil, append(l.rotateArgs("--rotate", "--retire-old-versions", "--dry-run"), "-o", "json")...), "dry run")
	if !strings.Contains(plan.stdout, `"schema": "kmsctl.rotate-plan/v1"`) || !strings.Contains(plan.stdout, fmt.Sprintf(`"retire_below": %d`, before+1)) {
		t.Fatalf("dry run plan: %s", plan)
	}
	if latest, _ := l.keyVersions(t); latest != before {
		t.Fatalf("the dry run rotated the key (%d -> %d)", before, latest)
	}
	leader := l.leader(t)
	r := must(t, l.kmsctl(t, nil, append(l.rotateArgs("--rotate", "--retire-old-versions"), "-o", "json")...), "rotate")
	latest, minDec := l.keyVersions(t)
	if latest != before+1 || minDec != latest {
		t.Fatalf("key latest %d min_decryption %d, want %d %d", latest, minDec, before+1, before+1)
	}
	order := nodesOf(parseEvents(t, r.stdout), "retire", "restart", "ok")
	if len(order) != len(l.nodes) || order[len(order)-1] != leader {
		t.Fatalf("retire restarts %v, want every node and the leader %s last", order, leader)
	}
	for _, n := range l.nodes {
		if v := l.sealedVersions(t)[n]; v != fmt.Sprint(latest) {
			t.Errorf("%s: Vault entry sealed with version %q, want %d", n, v, latest)
		}
	}
	for _, n := range l.nodes {
		l.restartUnit(t, n)
		l.waitHealthy(t, 60*time.Second)
	}
	l.assertOnVault(t)
	_, err := l.vaultRoot(t).Logical().Write("transit/decrypt/minkms-sealing-key", map[string]any{"ciphertext": oldEntry})
	if err == nil || !strings.Contains(err.Error(), "disallowed by policy") {
		t.Fatalf("Vault still decrypts the entry sealed with version %d: %v", before, err)
	}
	secret, _ := os.ReadFile(l.getenv("LAB_ROTATE_SECRET_FILE"))
	if s := strings.TrimSpace(string(secret)); s == "" || strings.Contains(r.stdout+r.stderr, s) {
		t.Fatal("the rotation secret id appears in the output (or could not be read)")
	}
}

// A node cut off from Vault during the retire step halts the run: it is
// not restarted (it could not unseal), min_decryption_version is put back
// and every node stays healthy.
func TestRotateRetireHaltsOnNodeCutOffFromVault(t *testing.T) {
	l := needLab(t)
	l.migrated(t)
	l.keepKeyUsable(t)
	_, minBefore := l.keyVersions(t)
	leader := l.leader(t) // restarted last: cut off while the followers go
	t.Cleanup(func() { l.labCmd(t, "heal", leader, "cutoff-vault") })
	b := l.start(t, l.rotateArgs("--rotate", "--retire-old-versions")...)
	b.waitFor(t, 2*time.Minute, func(e event) bool { return e.Phase == "retire" && e.Step == "config" })
	must(t, l.labCmd(t, "fault", leader, "cutoff-vault"), "cutoff-vault")
	if code := b.wait(t); code != 5 {
		t.Fatalf("exit %d, want 5 (halted); stderr:\n%s", code, b.stderr)
	}
	if _, minDec := l.keyVersions(t); minDec != minBefore {
		t.Fatalf("min_decryption_version %d, want it put back to %d", minDec, minBefore)
	}
	if !slices.ContainsFunc(b.all, func(e event) bool { return e.Phase == "retire" && e.Step == "put-back" && e.Result == "ok" }) {
		t.Error("no put-back event")
	}
	if slices.Contains(nodesOf(b.all, "retire", "restart", "ok"), leader) {
		t.Errorf("the cut-off node %s was restarted", leader)
	}
	if !strings.Contains(b.stderr.String(), leader) {
		t.Errorf("the halt does not name %s: %s", leader, b.stderr)
	}
	l.waitHealthy(t, 30*time.Second)
	l.labCmd(t, "heal", leader, "cutoff-vault")
	l.restartUnit(t, leader)
	l.waitHealthy(t, 60*time.Second)
}

// A full migration to the OpenBao block (the lab's Vault serves it):
// status names it as the external HSM, a second run is a no-op.
func TestMigrateToOpenBaoBlock(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	must(t, l.kmsctl(t, nil, enable(l, l.inventory(), "--vault-block", "hsm.openssf.openbao")...), "enable-vault --vault-block hsm.openssf.openbao")
	s := l.status(t)
	if !s.Healthy {
		t.Fatalf("not healthy: %+v", s)
	}
	for _, n := range s.Nodes {
		if !slices.Equal(n.Files.VaultBlocks, []string{"hsm.openssf.openbao"}) || n.Files.LocalKey {
			t.Errorf("%s: blocks %v, local key %v", n.Name, n.Files.VaultBlocks, n.Files.LocalKey)
		}
		if m := n.Member; m == nil || len(m.ExternalHSMs) != 1 || !strings.Contains(m.ExternalHSMs[0], "openbao") || !slices.Contains(m.HSM, m.ExternalHSMs[0]) {
			t.Errorf("%s: status does not name the OpenBao HSM as external with an entry: %+v", n.Name, m)
		}
	}
	table := must(t, l.kmsctl(t, nil, "status", "-i", l.inventory()), "status")
	if !strings.Contains(table.stdout, "openbao") {
		t.Errorf("status table does not name the OpenBao HSM:\n%s", table.stdout)
	}
	again := l.kmsctl(t, nil, append(enable(l, l.inventory(), "--vault-block", "hsm.openssf.openbao"), "-o", "json")...)
	if again.code != 0 || strings.Contains(again.stdout, `"step":"restart"`) {
		t.Fatalf("a second run must change nothing and exit 0: %s", again)
	}
}
