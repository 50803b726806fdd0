package labtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// clusterStatus calls ClusterStatus on a node with the lab API key through the
// public SDK (its framing and protobuf types; see labdir.ClusterStatus).
func (l *lab) clusterStatus(node string) (*kms.ClusterStatusResponse, error) {
	return l.clusterStatusWith(node, l.env["MINIO_KMS_API_KEY"])
}

func (l *lab) clusterStatusWith(node, apiKey string) (*kms.ClusterStatusResponse, error) {
	c, err := labdir.NewKMSClient(l.dir, l.addr(node)+":7373", apiKey)
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return labdir.ClusterStatus(ctx, c)
}

// TestClusterStatusShowsLeaderAndAllNodes uses the public SDK with the lab's API
// key: every node is up, exactly one is Leader, and every node names it. A
// node reports its peers as of their last heartbeat, so each view gets a few
// seconds to converge (an earlier test may just have restarted a node).
func TestClusterStatusShowsLeaderAndAllNodes(t *testing.T) {
	l := needLab(t)
	for _, n := range l.state.Nodes {
		why := "no answer yet"
		for deadline := time.Now().Add(10 * time.Second); why != "" && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			cs, err := l.clusterStatus(n.Name)
			if err != nil {
				why = "ClusterStatus: " + err.Error()
				continue
			}
			why = oneLeaderProblem(cs, len(l.state.Nodes))
		}
		if why != "" {
			t.Errorf("via %s after 10s: %s", n.Name, why)
		}
	}
}

// oneLeaderProblem says what keeps cs from showing want nodes up, exactly one
// Leader and every node naming it; "" when nothing does.
func oneLeaderProblem(cs *kms.ClusterStatusResponse, want int) string {
	if len(cs.NodesUp) != want || len(cs.NodesDown) != 0 {
		return fmt.Sprintf("%d up, %d down; want %d up", len(cs.NodesUp), len(cs.NodesDown), want)
	}
	leaders, named := 0, map[int]bool{}
	for id, s := range cs.NodesUp {
		named[s.LeaderID] = true
		if s.Role == "Leader" {
			leaders++
			if s.LeaderID != id {
				return fmt.Sprintf("leader %d names leader %d", id, s.LeaderID)
			}
		}
	}
	if leaders != 1 || len(named) != 1 {
		return fmt.Sprintf("%d leaders, %d leader ids named; want 1 and 1", leaders, len(named))
	}
	return ""
}

// TestClusterStatusNeedsAdminKey: another API key is refused.
func TestClusterStatusNeedsAdminKey(t *testing.T) {
	l := needLab(t)
	other, err := mtls.GenerateKeyEdDSA(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.clusterStatusWith(l.state.Nodes[0].Name, other.String())
	if err == nil || !strings.Contains(err.Error(), "403") && !strings.Contains(strings.ToLower(err.Error()), "forbidden") && !strings.Contains(strings.ToLower(err.Error()), "denied") {
		t.Fatalf("ClusterStatus with a foreign API key: err=%v, want a refusal", err)
	}
}

// TestCutoffNodeShownDown: a node whose link is down is listed in nodes_down by
// the others, and comes back after heal.
func TestCutoffNodeShownDown(t *testing.T) {
	l := needLab(t)
	if len(l.state.Nodes) < 2 {
		t.Skip("needs two nodes")
	}
	victim, observer := l.state.Nodes[len(l.state.Nodes)-1], l.state.Nodes[0].Name
	if out, err := l.labCmd(nil, "fault", victim.Name, "cutoff"); err != nil {
		t.Fatalf("fault: %v %s", err, out)
	}
	t.Cleanup(func() {
		_, _ = l.labCmd(nil, "heal", victim.Name, "cutoff")
		eventually(t, 30*time.Second, victim.Name+" back up", func() bool {
			cs, err := l.clusterStatus(observer)
			return err == nil && len(cs.NodesUp) == len(l.state.Nodes)
		})
	})
	eventually(t, 30*time.Second, victim.Name+" in nodes_down", func() bool {
		cs, err := l.clusterStatus(observer)
		if err != nil {
			return false
		}
		_, down := cs.NodesDown[victim.Index]
		_, up := cs.NodesUp[victim.Index]
		return down && !up
	})
}
