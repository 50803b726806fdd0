package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// vaultCheckDoc is `kmsctl vault check -o json`.
type vaultCheckDoc struct {
	Schema string       `json:"schema"`
	Checks []vaultCheck `json:"checks"`
}

// vaultCheck is one row of the report.
type vaultCheck struct {
	ID      string            `json:"id"`
	Title   string            `json:"title"`
	Node    string            `json:"node"`
	Status  string            `json:"status"`
	Message string            `json:"message"`
	Fix     string            `json:"fix"`
	Details map[string]string `json:"details"`
}

// find returns the check with id (and node, for node checks).
func (d vaultCheckDoc) find(t *testing.T, id, node string) vaultCheck {
	t.Helper()
	i := slices.IndexFunc(d.Checks, func(c vaultCheck) bool { return c.ID == id && c.Node == node })
	if i < 0 {
		t.Fatalf("no check %s (node %q) in %+v", id, node, d.Checks)
	}
	return d.Checks[i]
}

// failed lists the failing checks.
func (d vaultCheckDoc) failed() []vaultCheck {
	var out []vaultCheck
	for _, c := range d.Checks {
		if c.Status == "fail" {
			out = append(out, c)
		}
	}
	return out
}

// labSecrets are the secret values no kmsctl output may contain: every
// secret id and the kubernetes JWT of the lab, plus any a test made up.
func (l *lab) labSecrets(t *testing.T, extra ...string) []string {
	t.Helper()
	out := slices.Clone(extra)
	for _, v := range []string{"LAB_APPROLE_SECRET_FILE", "LAB_APPROLE2_SECRET_FILE", "LAB_NOHMAC_SECRET_FILE", "LAB_K8S_JWT_FILE"} {
		data, err := os.ReadFile(l.getenv(v))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if s := strings.TrimSpace(string(data)); len(s) >= 8 {
			out = append(out, s)
		}
	}
	return out
}

// vaultCheckRun runs `kmsctl vault check` (with -o json unless table),
// fails the test if any secret shows in stdout or stderr, and parses the
// JSON report.
func (l *lab) vaultCheckRun(t *testing.T, inv string, table bool, secrets []string) (result, vaultCheckDoc) {
	t.Helper()
	args := []string{"vault", "check", "-i", inv}
	if !table {
		args = append(args, "-o", "json")
	}
	r := l.kmsctl(t, nil, args...)
	for _, s := range secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("a secret (%d chars, starting %.4s) appears in the output of vault check", len(s), s)
		}
	}
	var doc vaultCheckDoc
	if table {
		return r, doc
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("vault check -o json is not JSON: %v\n%s", err, r)
	}
	if doc.Schema != "kmsctl.vault-check/v1" || len(doc.Checks) == 0 {
		t.Fatalf("vault check JSON: schema %q, %d checks", doc.Schema, len(doc.Checks))
	}
	return r, doc
}

// assertPassed: exit 0, nothing failed, the operator's checks passed and
// every node reached Vault.
func assertPassed(t *testing.T, l *lab, r result, doc vaultCheckDoc) {
	t.Helper()
	if r.code != 0 || len(doc.failed()) != 0 {
		t.Fatalf("vault check should pass: %s", r)
	}
	for _, id := range []string{"vault.reachable", "vault.login", "vault.capability.encrypt", "vault.capability.decrypt", "vault.capability.hmac", "transit.encrypt", "transit.decrypt", "transit.hmac"} {
		if c := doc.find(t, id, ""); c.Status != "pass" {
			t.Errorf("%s: %s (%s)", id, c.Status, c.Message)
		}
	}
	for _, n := range l.nodes {
		if c := doc.find(t, "node.vault", n); c.Status != "pass" || !strings.Contains(c.Message, n) {
			t.Errorf("node %s: %+v", n, c)
		}
	}
}

// TestVaultCheckPasses: the good approle, the non-default mounts and the
// kubernetes login each pass from the operator and from every node.
func TestVaultCheckPasses(t *testing.T) {
	l := needLab(t)
	secrets := l.labSecrets(t)
	k8s := func(jwtFile string) func(m map[string]any) {
		return func(m map[string]any) {
			v := section(m, "vault")
			delete(v, "approle")
			k := map[string]any{"role": "minkms", "jwt": "/etc/minkms/k8s-token"}
			if jwtFile != "" {
				k["jwt_file"] = jwtFile
			}
			v["kubernetes"] = k
		}
	}
	for _, tc := range []struct {
		name, method, mount, transit string
		edit                         func(m map[string]any)
	}{
		{"approle", "approle", "approle", "transit", func(map[string]any) {}},
		{"non-default mounts", "approle", "kms-approle", "kms-transit", func(m map[string]any) {
			section(m, "vault")["approle"] = map[string]any{"id": l.getenv("LAB_APPROLE2_ID"), "secret_file": l.getenv("LAB_APPROLE2_SECRET_FILE"), "path": "kms-approle"}
			section(m, "vault", "transit")["path"] = "kms-transit"
		}},
		{"kubernetes jwt_file", "kubernetes", "kubernetes", "transit", k8s(l.getenv("LAB_K8S_JWT_FILE"))},
		{"kubernetes jwt from node", "kubernetes", "kubernetes", "transit", k8s("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := l.variant(t, "inventory.yaml", tc.edit)
			r, doc := l.vaultCheckRun(t, inv, false, secrets)
			assertPassed(t, l, r, doc)
			login := doc.find(t, "vault.login", "")
			if login.Details["method"] != tc.method || login.Details["mount"] != tc.mount {
				t.Errorf("login details %v, want method %s at %s", login.Details, tc.method, tc.mount)
			}
			if hmac := doc.find(t, "vault.capability.hmac", ""); !strings.Contains(hmac.Title, tc.transit+"/hmac/minkms-sealing-key") {
				t.Errorf("hmac check is about %q, want mount %s", hmac.Title, tc.transit)
			}
			tab, _ := l.vaultCheckRun(t, inv, true, secrets)
			if tab.code != 0 || !strings.Contains(tab.stdout, "Vault check passed") {
				t.Errorf("table run: %s", tab)
			}
		})
	}
}

// TestVaultCheckNoHMAC: the role without hmac fails with exit 3, names the
// path and prints the policy stanza to add, in JSON and in the table.
func TestVaultCheckNoHMAC(t *testing.T) {
	l := needLab(t)
	secrets := l.labSecrets(t)
	inv := l.variant(t, "inventory.yaml", func(m map[string]any) {
		section(m, "vault")["approle"] = map[string]any{"id": l.getenv("LAB_NOHMAC_ROLE_ID"), "secret_file": l.getenv("LAB_NOHMAC_SECRET_FILE")}
	})
	r, doc := l.vaultCheckRun(t, inv, false, secrets)
	if r.code != 3 {
		t.Fatalf("want exit 3: %s", r)
	}
	c := doc.find(t, "vault.capability.hmac", "")
	stanza := "path \"transit/hmac/minkms-sealing-key\" {\n  capabilities = [\"update\"]\n}"
	if c.Status != "fail" || !strings.Contains(c.Message, "transit/hmac/minkms-sealing-key") || !strings.Contains(c.Fix, stanza) {
		t.Errorf("hmac capability: %+v", c)
	}
	for _, id := range []string{"vault.capability.encrypt", "vault.capability.decrypt", "transit.encrypt", "transit.decrypt"} {
		if c := doc.find(t, id, ""); c.Status != "pass" {
			t.Errorf("%s should pass for the no-hmac role: %+v", id, c)
		}
	}
	tab, _ := l.vaultCheckRun(t, inv, true, secrets)
	for _, want := range []string{"transit/hmac/minkms-sealing-key", "How to fix", `path "transit/hmac/minkms-sealing-key" {`, `capabilities = ["update"]`} {
		if !strings.Contains(tab.stdout, want) {
			t.Errorf("table lacks %q: %s", want, tab)
		}
	}
	if tab.code != 3 {
		t.Errorf("table run: want exit 3: %s", tab)
	}
}

// vaultFault is one broken setting or lab fault and what the check must say.
type vaultFault struct {
	name  string
	edit  func(m map[string]any)
	fault []string // lab fault TARGET KIND, healed after the case
	id    string   // the check that must fail
	node  string   // its node ("" for the operator)
	want  []string // in that check's message
}

// TestVaultCheckFailures: each broken setting or fault fails its own check
// with its own message, a fix, exit 3, and no secret in any output.
func TestVaultCheckFailures(t *testing.T) {
	l := needLab(t)
	wrongSecret := randomUUID(t)
	secrets := l.labSecrets(t, wrongSecret)
	victim := l.nodes[1]
	cases := []vaultFault{
		{name: "wrong secret id", id: "vault.login", want: []string{"invalid role or secret ID"},
			edit: func(m map[string]any) {
				section(m, "vault", "approle")["secret_file"] = writeTemp(t, "secret-id", []byte(wrongSecret+"\n"))
			}},
		{name: "wrong transit key", id: "vault.capability.hmac", want: []string{`"no-such-key"`, "vault.transit.key"},
			edit: func(m map[string]any) { section(m, "vault", "transit")["key"] = "no-such-key" }},
		{name: "wrong transit mount", id: "vault.capability.hmac", want: []string{"no-such-transit/", "vault.transit.path"},
			edit: func(m map[string]any) { section(m, "vault", "transit")["path"] = "no-such-transit" }},
		{name: "wrong auth mount", id: "vault.login", want: []string{"no auth method is mounted at no-such-approle/"},
			edit: func(m map[string]any) { section(m, "vault", "approle")["path"] = "no-such-approle" }},
		{name: "untrusted CA", id: "vault.reachable", want: []string{"unknown authority"},
			edit: func(m map[string]any) { section(m, "vault")["ca_cert"] = otherCA(t) }},
		{name: "vault stopped", fault: []string{"vault", "stop"}, id: "vault.reachable", want: []string{"connection refused", "10.213.0.1:8200"}},
		{name: "vault sealed", fault: []string{"vault", "seal"}, id: "vault.reachable", want: []string{"sealed"}},
		{name: "node cut off from vault", fault: []string{victim, "cutoff-vault"}, id: "node.vault", node: victim, want: []string{"node " + victim + " cannot reach Vault"}},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := l.inventory()
			if tc.edit != nil {
				inv = l.variant(t, "inventory.yaml", tc.edit)
			}
			if tc.fault != nil {
				t.Cleanup(func() { healVault(t, l, tc.fault) })
				must(t, l.labCmd(t, "fault", tc.fault[0], tc.fault[1]), "lab fault "+strings.Join(tc.fault, " "))
			}
			r, doc := l.vaultCheckRun(t, inv, false, secrets)
			if r.code != 3 {
				t.Errorf("want exit 3: %s", r)
			}
			c := doc.find(t, tc.id, tc.node)
			t.Logf("%s: %s | fix: %s", c.ID, c.Message, c.Fix)
			if c.Status != "fail" || c.Fix == "" {
				t.Errorf("%s should fail with a fix: %+v", tc.id, c)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Message, w) {
					t.Errorf("%s message lacks %q: %s", tc.id, w, c.Message)
				}
			}
			for _, f := range doc.failed() {
				if strings.Contains(f.Message, "Error making API request") || strings.Contains(f.Message, "Code: ") {
					t.Errorf("raw API error in %s: %s", f.ID, f.Message)
				}
			}
			if other, dup := seen[c.Message]; dup {
				t.Errorf("same message as case %q: %s", other, c.Message)
			}
			seen[c.Message] = tc.name
			if tc.node != "" {
				assertOnlyNodeFailed(t, l, doc, tc.node)
			}
		})
	}
}

// assertOnlyNodeFailed: with one node cut off, everything else passed.
func assertOnlyNodeFailed(t *testing.T, l *lab, doc vaultCheckDoc, node string) {
	t.Helper()
	for _, c := range doc.failed() {
		if c.ID != "node.vault" || c.Node != node {
			t.Errorf("only node.vault of %s should fail, also: %+v", node, c)
		}
	}
	for _, n := range l.nodes {
		if c := doc.find(t, "node.vault", n); n != node && c.Status != "pass" {
			t.Errorf("node %s should still reach Vault: %+v", n, c)
		}
	}
}

// healVault undoes a fault and, for Vault faults, waits until Vault answers
// unsealed again, so no later test finds Vault down.
func healVault(t *testing.T, l *lab, fault []string) {
	t.Helper()
	must(t, l.labCmd(t, "heal", fault[0], fault[1]), "lab heal "+strings.Join(fault, " "))
	if fault[0] != "vault" {
		return
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(l.getenv("LAB_CA"))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("lab CA %s: %v", l.getenv("LAB_CA"), err)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(l.getenv("VAULT_ADDR") + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("Vault not healthy 30s after lab heal %s", strings.Join(fault, " "))
}

// otherCA writes a fresh self-signed CA certificate that did not sign Vault's.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "kmsctl e2e untrusted CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "other-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// randomUUID makes a well-formed secret id that Vault never issued.
func randomUUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
