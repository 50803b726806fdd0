package standin

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"
	pb "github.com/minio/kms-go/kms/protobuf"
	"google.golang.org/protobuf/proto"
)

// TestInterNodeRuleAfterLocalKeyRemoval starts nodes 1 and 2 with the local
// key and Vault, node 3 with Vault only (its local key removed). Under
// "shared" the cluster stays whole; under "primary" node 3 is cut out: it sees
// 1 and 2 down, they see it down.
func TestInterNodeRuleAfterLocalKeyRemoval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule  string
		split bool
	}{
		{RuleShared, false},
		{RulePrimary, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			v := newFakeVault(t)
			key, block := newLocalKey(t), vaultBlock(v.URL, "transit")
			c := newTestCluster(t, tt.rule, []nodeSpec{{key, block}, {key, block}, {"", block}})
			c.start(t)
			if !tt.split {
				c.wantHealthy(t, 3, 4*time.Second)
				return
			}
			c.wantHealthy(t, 1, 4*time.Second, 3)
			eventually(t, 4*time.Second, "node 3 isolated", func() (bool, string) {
				s, err := c.status(t, 3)
				if err != nil {
					return false, err.Error()
				}
				_, d1 := s.NodesDown[1]
				_, d2 := s.NodesDown[2]
				return d1 && d2 && len(s.NodesUp) == 1 && s.NodesUp[3].LeaderID < 0, view(s)
			})
			var s *kms.ClusterStatusResponse
			eventually(t, 4*time.Second, "node 2 sees node 3 down", func() (bool, string) {
				var err error
				if s, err = c.status(t, 2); err != nil {
					return false, err.Error()
				}
				_, down := s.NodesDown[3]
				return down, view(s)
			})
			hsm := s.NodesUp[2]
			if hsm == nil || hsm.Role == "" {
				t.Fatalf("node 2 status: %+v", s)
			}
			ctx := context.Background()
			err := c.client(t, c.admin, c.addrs[2]).Ready(ctx, &kms.ReadinessRequest{})
			if err == nil || !strings.Contains(err.Error(), "not enough nodes") {
				t.Errorf("isolated node ready: %v", err)
			}
			if !strings.Contains(c.nodes[2].Log.String(), "does not share an inter-node key (this node uses vault:transit/minkms-sealing-key)") {
				t.Errorf("node 3 log:\n%s", c.nodes[2].Log)
			}
		})
	}
}

// TestHSMFieldsInStatus checks hsm (entries) and hsm_active (configured) as
// the raw protobuf fields 19 and 20 of ServerStatusResponse.
func TestHSMFieldsInStatus(t *testing.T) {
	t.Parallel()
	v := newFakeVault(t)
	key := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{key, vaultBlock(v.URL, "transit")}})
	c.start(t)
	c.wantHealthy(t, 1, 4*time.Second)
	body := adminPost(t, c, 1, Frame(CmdClusterStatus, nil))
	cmds, err := ParseCommands(body)
	if err != nil || len(cmds) != 1 || cmds[0].ID != CmdClusterStatus {
		t.Fatalf("answer: %v %v", cmds, err)
	}
	var want = "local,vault:transit/minkms-sealing-key"
	got := rawHSMFields(t, cmds[0].Msg)
	if got[19] != want || got[20] != want {
		t.Fatalf("hsm fields = %v", got)
	}
}

// adminPost sends a raw admin request with the admin API key's certificate.
func adminPost(t *testing.T, c *testCluster, node int, body []byte) []byte {
	t.Helper()
	cert, err := kms.GenerateCertificate(c.admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(c.pki.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	resp, err := hc.Post("https://"+c.addrs[node-1]+"/v1/kms/", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" || resp.ContentLength != int64(len(data)) {
		t.Fatalf("answer %s, %q, length %d: %q", resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength, data)
	}
	return data
}

// rawHSMFields returns fields 19 and 20 of node 1's ServerStatusResponse.
func rawHSMFields(t *testing.T, msg []byte) map[int]string {
	t.Helper()
	var cs pb.ClusterStatusResponse
	if err := proto.Unmarshal(msg, &cs); err != nil {
		t.Fatal(err)
	}
	f19, f20 := unknownStrings(t, cs.NodesUp[1].ProtoReflect().GetUnknown())
	return map[int]string{19: strings.Join(f19, ","), 20: strings.Join(f20, ",")}
}

// TestLeaderIsSticky restarts a follower: it rejoins under the same leader
// instead of forcing an election.
func TestLeaderIsSticky(t *testing.T) {
	t.Parallel()
	key := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{localKey: key}, {localKey: key}, {localKey: key}})
	c.start(t)
	c.wantHealthy(t, 1, 4*time.Second)
	s, err := c.status(t, 1)
	if err != nil {
		t.Fatal(err)
	}
	leader := s.NodesUp[1].LeaderID
	follower := leader%3 + 1
	c.runs[follower-1].cancel()
	c.wantHealthy(t, leader, 4*time.Second, follower)
	time.Sleep(time.Second) // the follower stays away longer than an election timeout
	c.nodes[follower-1].Log = &syncBuffer{}
	c.nodes[follower-1].run(t)
	c.wantHealthy(t, follower, 4*time.Second)
	for node := 1; node <= 3; node++ {
		// every view converges (peers are reported as of their last
		// heartbeat) and names the same leader as before
		if s := c.wantHealthy(t, node, 4*time.Second); s.NodesUp[node].LeaderID != leader {
			t.Fatalf("node %d after the restart: %v (leader was %d)", node, view(s), leader)
		}
	}
	// "(term " without a number: under load the first election may take
	// more than one term; what matters is that the rejoin is no election.
	if log := c.nodes[follower-1].Log.String(); !strings.Contains(log, fmt.Sprintf("following leader %d (term ", leader)) {
		t.Errorf("restarted node log:\n%s", log)
	}
}
