package standin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"
)

// testCluster is n stand-ins started in this process on loopback ports.
type testCluster struct {
	pki   testPKI
	admin mtls.PrivateKey
	addrs []string
	nodes []*testNode
	runs  []*running
}

// nodeSpec says how one node of a test cluster is configured.
type nodeSpec struct {
	localKey string // "" : no local HSM
	hsmBlock string // appended to the config
}

func newTestCluster(t *testing.T, rule string, specs []nodeSpec) *testCluster {
	t.Helper()
	admin, err := mtls.GenerateKeyEdDSA(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{pki: newTestPKI(t), admin: admin, addrs: freePorts(t, len(specs))}
	for i, s := range specs {
		cfg := baseConfig(c.pki, admin.Identity().String()) + s.hsmBlock
		c.nodes = append(c.nodes, newTestNode(t, uint32(i+1), c.addrs, rule, cfg, s.localKey))
	}
	return c
}

func (c *testCluster) start(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		c.runs = append(c.runs, n.run(t))
	}
}

// client is a kms-go SDK client for the given endpoints with an API key.
func (c *testCluster) client(t *testing.T, key mtls.PrivateKey, endpoints ...string) *kms.Client {
	t.Helper()
	pem, err := os.ReadFile(c.pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client, err := kms.NewClient(&kms.Config{Endpoints: endpoints, APIKey: key, TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// status asks one node for ClusterStatus through the SDK.
func (c *testCluster) status(t *testing.T, node int) (*kms.ClusterStatusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.client(t, c.admin, c.addrs[node-1]).ClusterStatus(ctx, &kms.ClusterStatusRequest{})
}

// view summarises a ClusterStatus answer: up ids with the leader each reports.
func view(s *kms.ClusterStatusResponse) string {
	out := ""
	for id := 1; id <= len(s.NodesUp)+len(s.NodesDown); id++ {
		if n, ok := s.NodesUp[id]; ok {
			out += fmt.Sprintf("%d:%s(leader %d) ", id, n.Role, n.LeaderID)
		} else {
			out += fmt.Sprintf("%d:down ", id)
		}
	}
	return out
}

// wantHealthy waits until node sees one common leader and every node up
// except the len(down) nodes expected down.
func (c *testCluster) wantHealthy(t *testing.T, node int, timeout time.Duration, down ...int) *kms.ClusterStatusResponse {
	t.Helper()
	begin := time.Now()
	defer func() {
		t.Logf("node %d saw a healthy cluster after %s", node, time.Since(begin).Round(10*time.Millisecond))
	}()
	var got *kms.ClusterStatusResponse
	eventually(t, timeout, fmt.Sprintf("node %d sees a healthy cluster", node), func() (bool, string) {
		s, err := c.status(t, node)
		if err != nil {
			return false, err.Error()
		}
		got = s
		return healthy(s, len(c.nodes)-len(down)), view(s)
	})
	return got
}

func healthy(s *kms.ClusterStatusResponse, up int) bool {
	if len(s.NodesUp) != up {
		return false
	}
	leaders, leaderID := 0, -1
	for id, n := range s.NodesUp {
		if n.ID != id || (leaderID >= 0 && n.LeaderID != leaderID) || n.LeaderID < 0 {
			return false
		}
		leaderID = n.LeaderID
		if n.Role == RoleLeader {
			leaders++
			if n.LeaderID != id {
				return false
			}
		}
	}
	return leaders == 1
}

// TestSDKClusterStatus cross-checks the wire format with the public SDK:
// three stand-ins, ClusterStatus with the admin API key, 403 for another key,
// Ready and Version through the SDK, and a stopped leader shown down.
func TestSDKClusterStatus(t *testing.T) {
	t.Parallel()
	key := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{localKey: key}, {localKey: key}, {localKey: key}})
	begin := time.Now()
	c.start(t)
	c.wantHealthy(t, 1, 4*time.Second)
	t.Logf("leader elected and seen by node 1 after %s", time.Since(begin).Round(10*time.Millisecond))
	// A node reports its peers as of their last heartbeat, so node 2 may
	// lag node 1 by a heartbeat or two; the view it converged to is checked.
	s := c.wantHealthy(t, 2, 4*time.Second)
	if len(s.NodesDown) != 0 {
		t.Fatalf("node 2 sees %s", view(s))
	}
	for id, n := range s.NodesUp {
		if n.Host != c.addrs[id-1] || n.Version != "2025-10-01T00-00-00Z" || len(n.Nodes) != 3 || n.UpTime <= 0 {
			t.Errorf("node %d: %+v", id, n)
		}
	}

	ctx := context.Background()
	other, _ := mtls.GenerateKeyEdDSA(rand.Reader)
	_, err := c.client(t, other, c.addrs[0]).ClusterStatus(ctx, &kms.ClusterStatusRequest{})
	var kerr kms.Error
	if !errors.As(err, &kerr) || kerr.Code != http.StatusForbidden {
		t.Fatalf("non-admin key: %v", err)
	}
	sdk := c.client(t, other, c.addrs...)
	if err := sdk.Ready(ctx, &kms.ReadinessRequest{}); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if err := sdk.Ready(ctx, &kms.ReadinessRequest{Write: true}); err != nil {
		t.Fatalf("Ready(write): %v", err)
	}
	if err := sdk.Live(ctx, &kms.LivenessRequest{}); err != nil {
		t.Fatalf("Live: %v", err)
	}
	v, err := sdk.Version(ctx, &kms.VersionRequest{Hosts: c.addrs[:1]})
	if err != nil || v[0].Version != "2025-10-01T00-00-00Z" || v[0].APIVersion != "v1" {
		t.Fatalf("Version: %+v, %v", v, err)
	}

	leader := s.NodesUp[1].LeaderID
	survivor := leader%3 + 1
	c.runs[leader-1].cancel()
	eventually(t, 5*time.Second, "leader shown down and replaced", func() (bool, string) {
		s, err := c.status(t, survivor)
		if err != nil {
			return false, err.Error()
		}
		_, down := s.NodesDown[leader]
		return down && healthy(s, 2), view(s)
	})
	err = sdk.Ready(ctx, &kms.ReadinessRequest{Hosts: []string{c.addrs[survivor-1]}, Write: true})
	if err == nil {
		t.Error("Ready(write) with a node down must fail")
	}
}
