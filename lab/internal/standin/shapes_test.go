package standin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"
)

func newChaChaKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return "hsm:chacha20:" + base64.StdEncoding.EncodeToString(k)
}

func TestChaCha20LocalKey(t *testing.T) {
	key := newChaChaKey(t)
	if len(key) != 57 || len(newLocalKey(t)) != 55 {
		t.Fatalf("key lengths %d and %d, want 57 and 55", len(key), len(newLocalKey(t)))
	}
	h, err := ParseLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entry, err := h.Seal(ctx, []byte("root key"))
	if err != nil {
		t.Fatal(err)
	}
	if rek, err := h.Unseal(ctx, entry); err != nil || string(rek) != "root key" {
		t.Fatalf("unseal: %q, %v", rek, err)
	}
	aes, _ := ParseLocalKey("hsm:aes256:" + strings.TrimPrefix(key, "hsm:chacha20:"))
	if _, err := aes.Unseal(ctx, entry); err == nil {
		t.Error("an AES-256 key with the same bytes opened a ChaCha20 entry")
	}
	for _, bad := range []string{"hsm:chacha20:short", "hsm:xchacha:" + strings.TrimPrefix(key, "hsm:chacha20:")} {
		if _, err := ParseLocalKey(bad); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestRunDocumentedConfigShapes: a node with a ChaCha20 local key, the
// older flat tls block whose ca is a directory, a heartbeat, and an OpenBao
// block (served by the fake Vault) starts, seals for both HSMs and reports
// the OpenBao HSM under both namings.
func TestRunDocumentedConfigShapes(t *testing.T) {
	v := newFakeVault(t)
	p := newTestPKI(t)
	caDir := filepath.Join(t.TempDir(), "ca.d")
	writeFile(t, filepath.Join(caDir, "lab.pem"), mustRead(t, p.CA))
	admin, _ := mtls.GenerateKeyEdDSA(rand.Reader)
	openbao := strings.Replace(vaultBlock(v.URL, "transit"), "  hashicorp:\n    vault:", "  openssf:\n    openbao:", 1)
	cfg := fmt.Sprintf("version: v1\nheartbeat: 500ms\nadmin:\n  identity: %s\ntls:\n  key: %s\n  cert: %s\n  ca: %s\n%s",
		admin.Identity(), p.Key, p.Cert, caDir, openbao)
	c := &testCluster{pki: p, admin: admin, addrs: freePorts(t, 1)}
	c.nodes = []*testNode{newTestNode(t, 1, c.addrs, RuleShared, cfg, newChaChaKey(t))}
	n := c.nodes[0]
	for _, naming := range []string{NamesLegacy, NamesProduct} {
		n.setLab(t, "hsm_names", naming)
		r := n.run(t)
		c.wantHealthy(t, 1, 4*time.Second)
		cmds, err := ParseCommands(adminPost(t, c, 1, Frame(CmdClusterStatus, nil)))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(ReportNames(naming, []string{"local", "openbao:transit/minkms-sealing-key"}), ",")
		if got := rawHSMFields(t, cmds[0].Msg); got[19] != want || got[20] != want {
			t.Errorf("%s: hsm fields %v, want %s", naming, got, want)
		}
		r.cancel()
		r.exitCode(t, 3*time.Second)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNoTLSSettings: three nodes without any TLS settings serve
// self-signed certificates, still form a cluster (peers authenticate by
// inter-node key), and an SDK client that skips verification works; one
// that verifies does not.
func TestNoTLSSettings(t *testing.T) {
	t.Parallel()
	admin, _ := mtls.GenerateKeyEdDSA(rand.Reader)
	addrs := freePorts(t, 3)
	key := newLocalKey(t)
	cfg := fmt.Sprintf("version: v1\nadmin:\n  identity: %s\n", admin.Identity())
	var nodes []*testNode
	for i := range addrs {
		nodes = append(nodes, newTestNode(t, uint32(i+1), addrs, RuleShared, cfg, key))
	}
	for _, n := range nodes {
		n.run(t)
	}
	skip, err := kms.NewClient(&kms.Config{Endpoints: addrs[:1], APIKey: admin, TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a healthy cluster seen by node 1", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := skip.ClusterStatus(ctx, &kms.ClusterStatusRequest{})
		if err != nil {
			return false, err.Error()
		}
		return healthy(s, 3), view(s)
	})
	if !strings.Contains(nodes[0].Log.String(), "serving a self-signed certificate (clients must skip verification)") {
		t.Errorf("log:\n%s", nodes[0].Log)
	}
	verify, _ := kms.NewClient(&kms.Config{Endpoints: addrs[:1], APIKey: admin, TLS: &tls.Config{}})
	if _, err := verify.ClusterStatus(context.Background(), &kms.ClusterStatusRequest{}); err == nil {
		t.Error("a verifying client accepted the self-signed certificate")
	}
}
