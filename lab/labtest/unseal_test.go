package labtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	envFile    = "/etc/default/minkms"
	configFile = "/etc/minkms/config.yaml"
	rekFile    = "/var/lib/minkms/rek.json"
	dbFile     = "/var/lib/minkms/db.json"
	vaultHSM   = "vault:transit/minkms-sealing-key"
)

// hsmEntries returns the sorted HSM names of a node's rek.json.
func (l *lab) hsmEntries(node string) []string {
	l.t.Helper()
	var rek struct {
		HSM map[string]string `json:"hsm"`
	}
	if err := json.Unmarshal([]byte(l.mustExec(node, "cat", rekFile)), &rek); err != nil {
		l.t.Fatalf("rek.json on %s: %v", node, err)
	}
	var names []string
	for k := range rek.HSM {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// TestUnsealsWithLocalKey: every node of a fresh lab unsealed with its local key.
func TestUnsealsWithLocalKey(t *testing.T) {
	l := needLab(t)
	local, _ := namesUnder(l.env["LAB_HSM_NAMES"])
	for _, n := range l.state.Nodes {
		if got := l.hsmEntries(n.Name); len(got) == 0 || got[0] != "local" {
			t.Errorf("%s: rek.json entries %v, want local", n.Name, got)
		}
		if j := l.journal(n.Name, time.Time{}); !strings.Contains(j, "unsealed with "+local) {
			t.Errorf("%s: journal lacks 'unsealed with %s':\n%s", n.Name, local, j)
		}
	}
}

// TestRefusesWrongOrMissingKey: with a different local key or none, the
// stand-in does not start and its journal says why.
func TestRefusesWrongOrMissingKey(t *testing.T) {
	l := needLab(t)
	node := l.last()
	orig := l.mustExec(node, "cat", envFile)
	var k [32]byte
	_, _ = rand.Read(k[:])
	keyLine := regexp.MustCompile(`(?m)^MINIO_KMS_HSM_KEY=.*\n`)
	cases := []struct {
		name, env, why string
	}{
		{"wrong key", keyLine.ReplaceAllString(orig, "MINIO_KMS_HSM_KEY=hsm:aes256:"+base64.StdEncoding.EncodeToString(k[:])+"\n"), "wrong key"},
		{"missing key", keyLine.ReplaceAllString(orig, ""), "MINIO_KMS_HSM_KEY is not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &lab{t: t, dir: l.dir, state: l.state, env: l.env}
			l.guardNode(node, envFile)
			if c.env == orig {
				t.Fatal("test setup: env file unchanged")
			}
			l.writeNodeFile(node, envFile, "600", "root", "root", []byte(c.env))
			since := l.restart(node)
			eventually(t, 15*time.Second, "journal to say why", func() bool { return strings.Contains(l.journal(node, since), c.why) })
			if active, sub, _ := l.unit(node); active == "active" && sub == "running" && l.readyCode(node) == 200 {
				t.Errorf("%s: unit %s/%s and ready with a %s", node, active, sub, c.name)
			}
		})
	}
}
