package standin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"
)

// noAdminConfig is a valid config.yaml without admin.identity.
func noAdminConfig(p testPKI) string {
	return fmt.Sprintf("version: v1\ntls:\n  certs:\n    - key: %s\n      cert: %s\n  ca: %s\n", p.Key, p.Cert, p.CA)
}

var apiKeyLine = regexp.MustCompile(`(?m)^minkms: API Key (k1:\S+)$`)

// TestDerivedAdminIdentity: without admin.identity the root API key is
// derived from the first HSM and printed; it (and only it) may run admin
// commands, and it changes when the local key goes and Vault is first.
func TestDerivedAdminIdentity(t *testing.T) {
	t.Parallel()
	v := newFakeVault(t)
	localKey := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{localKey, ""}})
	n := c.nodes[0]
	writeFile(t, n.Config, noAdminConfig(c.pki)+vaultBlock(v.URL, "transit"))

	derived := func() (mtls.PrivateKey, *running) {
		t.Helper()
		n.Log = &syncBuffer{}
		r := n.run(t)
		eventually(t, 4*time.Second, "API Key line", func() (bool, string) {
			return apiKeyLine.MatchString(n.Log.String()), n.Log.String()
		})
		key, err := mtls.ParsePrivateKey(apiKeyLine.FindStringSubmatch(n.Log.String())[1])
		if err != nil {
			t.Fatal(err)
		}
		c.admin = key
		c.wantHealthy(t, 1, 4*time.Second)
		return key, r
	}
	fromLocal, r := derived()
	want, err := LocalRootAPIKey(localKey)
	if err != nil {
		t.Fatal(err)
	}
	if fromLocal.String() != want.String() {
		t.Fatalf("printed key is not LocalRootAPIKey of the local key")
	}
	r.cancel()
	r.exitCode(t, 3*time.Second)

	delete(n.Env, LocalKeyEnv)
	fromVault, _ := derived()
	if fromVault.String() == fromLocal.String() {
		t.Fatal("the root API key did not change when Vault became the first HSM")
	}
	_, err = c.client(t, fromLocal, c.addrs[0]).ClusterStatus(context.Background(), &kms.ClusterStatusRequest{})
	var kerr kms.Error
	if !errors.As(err, &kerr) || kerr.Code != http.StatusForbidden {
		t.Fatalf("the local-derived key after the local key went: %v", err)
	}
}
