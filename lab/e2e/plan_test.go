package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate/configedit"
)

// fingerprint records every place a run may write on a node: the
// files' digests and the listings of their directories, the backup
// directory and the lock directory.
func (l *lab) fingerprint(t *testing.T, node string) string {
	t.Helper()
	r := l.exec(t, nil, node, "sh", "-c", "sha256sum /etc/minkms/config.yaml /etc/default/minkms /var/lib/minkms/rek.json; find /etc/minkms /etc/default /run/lock /var/lib/kmsctl -maxdepth 1 -printf '%p %s %m %u %T@\\n' 2>&1")
	return r.stdout
}

func TestDryRunChangesNothingAndShowsDiffs(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	before := map[string]string{}
	for _, n := range l.nodes {
		before[n] = l.fingerprint(t, n)
	}
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := l.kmsctl(t, nil, "hsm", "enable-vault", "-i", l.inventory(), "--dry-run", "--out", plan, "--detailed-exitcode")
	if r.code != 2 {
		t.Fatalf("--detailed-exitcode with changes pending must exit 2: %s", r)
	}
	for _, n := range l.nodes {
		if after := l.fingerprint(t, n); after != before[n] {
			t.Fatalf("%s changed during a dry run:\nbefore:\n%s\nafter:\n%s", n, before[n], after)
		}
		if c := strings.Count(r.stdout, "--- a/etc/minkms/config.yaml"); c != len(l.nodes) {
			t.Fatalf("want one config diff per node, got %d:\n%s", c, r.stdout)
		}
		if c := strings.Count(r.stdout, "--- a/etc/default/minkms"); c != len(l.nodes) {
			t.Fatalf("want one env diff per node, got %d:\n%s", c, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "-MINIO_KMS_HSM_KEY=<redacted>") || !strings.Contains(r.stdout, "<redacted>") {
		t.Fatalf("the env diff must show the key as <redacted>:\n%s", r.stdout)
	}
	planBytes, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := os.ReadFile(l.getenv("LAB_APPROLE_SECRET_FILE"))
	hsmKey := envValue(l.file(t, l.nodes[0], "/etc/default/minkms"), "MINIO_KMS_HSM_KEY")
	for what, s := range map[string]string{"approle secret id": strings.TrimSpace(string(secret)), "HSM key": hsmKey} {
		if len(s) < 8 {
			t.Fatalf("could not read the %s from the lab", what)
		}
		for where, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "plan file": string(planBytes)} {
			if strings.Contains(text, s) {
				t.Fatalf("the %s appears in %s", what, where)
			}
		}
	}
}

// The config kmsctl plans is accepted by the key manager stand-in: written
// onto a node and restarted, the node unseals and adds its Vault entry.
func TestPlannedConfigIsAcceptedByTheKeyManager(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	node := l.nodes[0]
	secret, err := os.ReadFile(l.getenv("LAB_APPROLE_SECRET_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	want := configedit.VaultSettings{
		Server:  l.getenv("VAULT_ADDR"),
		AppRole: &configedit.AppRole{ID: l.getenv("LAB_APPROLE_ID"), Secret: strings.TrimSpace(string(secret)), Path: "approle"},
		Transit: configedit.Transit{Key: "minkms-sealing-key", Path: "transit"},
	}
	res, err := configedit.Apply([]byte(l.file(t, node, "/etc/minkms/config.yaml")), want, configedit.BlockHashicorpVault)
	if err != nil {
		t.Fatal(err)
	}
	must(t, l.exec(t, res.Output, node, "sh", "-c", "cat > /etc/minkms/config.yaml.new && chown --reference=/etc/minkms/config.yaml /etc/minkms/config.yaml.new && chmod --reference=/etc/minkms/config.yaml /etc/minkms/config.yaml.new && mv /etc/minkms/config.yaml.new /etc/minkms/config.yaml"), "write planned config")
	l.restartUnit(t, node)
	l.waitHealthy(t, 60*time.Second)
	rek := l.file(t, node, "/var/lib/minkms/rek.json")
	if !strings.Contains(rek, "vault:transit/minkms-sealing-key") {
		t.Fatalf("no Vault entry after the planned config: %s", rek)
	}
}

// envValue returns the value of key in an env file ("" when absent).
func envValue(env, key string) string {
	for _, line := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
