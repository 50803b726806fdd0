package labtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// approle renders an approle auth section from env.sh's role id and secret file.
func (l *lab) approle(roleIDVar, secretFileVar string) string {
	l.t.Helper()
	secret, err := os.ReadFile(l.env[secretFileVar])
	if err != nil {
		l.t.Fatalf("read %s: %v", secretFileVar, err)
	}
	return fmt.Sprintf("approle:\n  id: %s\n  secret: %s\n", l.env[roleIDVar], strings.TrimSpace(string(secret)))
}

// kubernetesAuth logs in with the service account token up copied to every node.
const kubernetesAuth = "kubernetes:\n  role: minkms\n  jwt: /etc/minkms/k8s-token\n"

// vaultBlock renders a Vault HSM block under the given spelling
// ("hashicorp.vault" or "vault") with an auth section.
func (l *lab) vaultBlock(spelling, auth string) string {
	body := "server: " + l.env["VAULT_ADDR"] + "\n" + auth + "transit:\n  key: minkms-sealing-key\n"
	parts := strings.Split(spelling, ".")
	var b strings.Builder
	b.WriteString("hsm:\n")
	indent := "  "
	for _, p := range parts {
		b.WriteString(indent + p + ":\n")
		indent += "  "
	}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		b.WriteString(indent + line + "\n")
	}
	return b.String()
}

// addVaultBlock appends a Vault block to the node's config.yaml.
func (l *lab) addVaultBlock(node, block string) {
	l.t.Helper()
	cfg := l.mustExec(node, "cat", configFile)
	l.writeNodeFile(node, configFile, "640", "root", "minkms-user", []byte(cfg+block))
}

func (l *lab) hasVaultEntry(node string) bool {
	got := l.hsmEntries(node)
	return len(got) == 2 && got[0] == "local" && got[1] == vaultHSM
}

// TestVaultEntryThenVaultOnly: a Vault block added to config.yaml makes a
// restart seal the REK for Vault too; with the local key then removed, the
// node still unseals, via Vault.
func TestVaultEntryThenVaultOnly(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, envFile, configFile, rekFile)
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", l.approle("LAB_APPROLE_ID", "LAB_APPROLE_SECRET_FILE")))
	local, vault := namesUnder(l.env["LAB_HSM_NAMES"])
	since := l.restart(node)
	eventually(t, 20*time.Second, "a Vault entry in rek.json", func() bool { return l.hasVaultEntry(node) })
	// rek.json is saved before the line is logged, and journald reads it
	// asynchronously: poll for it too.
	eventually(t, 10*time.Second, `the first restart's journal line "unsealed with <local HSM>"`, func() bool {
		return strings.Contains(l.journal(node, since), "unsealed with "+local)
	})
	env := l.mustExec(node, "cat", envFile)
	var kept []string
	for _, line := range strings.Split(env, "\n") {
		if !strings.HasPrefix(line, "MINIO_KMS_HSM_KEY=") {
			kept = append(kept, line)
		}
	}
	l.writeNodeFile(node, envFile, "600", "root", "root", []byte(strings.Join(kept, "\n")))
	since = l.restart(node)
	eventually(t, 20*time.Second, "unsealed with Vault", func() bool {
		return strings.Contains(l.journal(node, since), "unsealed with "+vault)
	})
	eventually(t, 10*time.Second, "unit active", func() bool { a, s, _ := l.unit(node); return a == "active" && s == "running" })
}

// TestKubernetesAuth: a Vault block with kubernetes auth logs in through the
// lab's TokenReview endpoint and seals the REK for Vault.
func TestKubernetesAuth(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, configFile, rekFile)
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", kubernetesAuth))
	since := l.restart(node)
	eventually(t, 20*time.Second, "a Vault entry via kubernetes auth", func() bool { return l.hasVaultEntry(node) })
	if j := l.journal(node, since); strings.Contains(j, "login") && strings.Contains(j, "denied") {
		t.Errorf("kubernetes login failed:\n%s", j)
	}
}

// TestVaultBlockSpelling: with `lab fault NODE vault-block hsm.vault` the node
// refuses hsm.hashicorp.vault and accepts hsm.vault.
func TestVaultBlockSpelling(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, configFile, rekFile)
	l.fault("fault", node, "vault-block", "hsm.vault")
	orig := l.mustExec(node, "cat", configFile)
	auth := l.approle("LAB_APPROLE_ID", "LAB_APPROLE_SECRET_FILE")
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", auth))
	since := l.restart(node)
	eventually(t, 15*time.Second, "the wrong spelling refused", func() bool {
		return strings.Contains(l.journal(node, since), `unknown key "hsm.hashicorp"`)
	})
	if l.readyCode(node) == 200 || l.hasVaultEntry(node) {
		t.Error("node accepted hsm.hashicorp.vault although its lab setting is hsm.vault")
	}
	l.writeNodeFile(node, configFile, "640", "root", "minkms-user", []byte(orig+l.vaultBlock("vault", auth)))
	l.restart(node)
	eventually(t, 20*time.Second, "a Vault entry via hsm.vault", func() bool { return l.hasVaultEntry(node) })
}

// TestPolicyWithoutHMACFailsStart: the role whose policy lacks transit/hmac
// cannot start the node under the strict unseal (all); under unseal any the
// node starts on its local key but never gets a Vault entry.
func TestPolicyWithoutHMACFailsStart(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, configFile, rekFile)
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", l.approle("LAB_NOHMAC_ROLE_ID", "LAB_NOHMAC_SECRET_FILE")))
	since := l.restart(node)
	eventually(t, 20*time.Second, "journal naming transit/hmac", func() bool {
		return strings.Contains(l.journal(node, since), "transit/hmac/minkms-sealing-key: 403")
	})
	if l.env["LAB_UNSEAL"] == standin.UnsealAny {
		if l.hasVaultEntry(node) {
			t.Errorf("a Vault entry sealed with the no-hmac policy: %v", l.hsmEntries(node))
		}
		return
	}
	if a, s, _ := l.unit(node); a == "active" && s == "running" && l.readyCode(node) == 200 {
		t.Errorf("unit %s/%s and ready with the no-hmac policy", a, s)
	}
}
