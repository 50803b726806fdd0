package standin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"
	"google.golang.org/protobuf/encoding/protowire"
)

// hsmRequest hand-frames AddHSMRequest{Name=1, Overwrite=2} or
// RemoveHSMRequest{Name=1} (the SDK in go.mod predates both commands).
func hsmRequest(cmd uint16, name string, overwrite bool) []byte {
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, name)
	if overwrite {
		msg = protowire.AppendTag(msg, 2, protowire.VarintType)
		msg = protowire.AppendVarint(msg, 1)
	}
	return Frame(cmd, msg)
}

// send runs a raw command body through the SDK's client, so that its error
// decoding reads the stand-in's answers; it returns the SDK's kms.Error.
func (c *testCluster) send(t *testing.T, key mtls.PrivateKey, node int, body []byte) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := c.client(t, key, c.addrs[node-1]).Send(ctx, &kms.Request{Body: body})
	if err != nil {
		var kerr kms.Error
		if errors.As(err, &kerr) {
			return kerr
		}
		return err
	}
	return resp.Body.Close()
}

func wantCode(t *testing.T, what string, err error, code int, text string) {
	t.Helper()
	var kerr kms.Error
	if code == 0 {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !errors.As(err, &kerr) || kerr.Code != code || !strings.Contains(kerr.Err, text) {
		t.Fatalf("%s: got %v, want %d %q", what, err, code, text)
	}
}

// entries is the sorted HSM ids of a node's rek.json.
func (n *testNode) entries(t *testing.T) string {
	t.Helper()
	s, _, err := LoadSealed(n.Volume)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(s.Names(), ",")
}

// TestAddAndRemoveHSM: RemoveHSM deletes the named entry on every node
// (and is shown in ClusterStatus), refuses an unknown name and the last
// working entry; AddHSM re-seals it, refuses when nodes have one unless
// Overwrite; both need the admin and every node up; a restart re-creates a
// removed entry only with restart_recreates_removed.
func TestAddAndRemoveHSM(t *testing.T) {
	t.Parallel()
	v := newFakeVault(t)
	key := newLocalKey(t)
	block := vaultBlock(v.URL, "transit")
	c := newTestCluster(t, RuleShared, []nodeSpec{{key, block}, {key, block}, {key, block}})
	for _, n := range c.nodes {
		n.setLab(t, "hsm_names", NamesProduct)
	}
	c.start(t)
	c.wantHealthy(t, 1, 4*time.Second)
	const local, vault = ProductLocalName, ProductVaultName
	const both, vaultOnly = "local,vault:transit/minkms-sealing-key", "vault:transit/minkms-sealing-key"

	other, _ := mtls.GenerateKeyEdDSA(nil)
	wantCode(t, "non-admin", c.send(t, other, 1, hsmRequest(CmdRemoveHSM, local, false)), http.StatusForbidden, "access denied")
	wantCode(t, "remove local", c.send(t, c.admin, 2, hsmRequest(CmdRemoveHSM, local, false)), 0, "")
	for _, n := range c.nodes {
		if got := n.entries(t); got != vaultOnly {
			t.Errorf("node %d entries after RemoveHSM: %s", n.ID, got)
		}
	}
	eventually(t, 3*time.Second, "ClusterStatus without the local entry", func() (bool, string) {
		cmds, err := ParseCommands(adminPost(t, c, 3, Frame(CmdClusterStatus, nil)))
		if err != nil {
			return false, err.Error()
		}
		got := rawHSMFields(t, cmds[0].Msg)
		return got[19] == vault && got[20] == local+","+vault, strings.Join([]string{got[19], got[20]}, " / ")
	})
	wantCode(t, "remove again", c.send(t, c.admin, 1, hsmRequest(CmdRemoveHSM, local, false)), http.StatusNotFound, "no sealed root encryption key entry for HSM hsm:minio:soft")
	wantCode(t, "remove the last", c.send(t, c.admin, 1, hsmRequest(CmdRemoveHSM, vault, false)), http.StatusConflict, "no other working HSM")
	wantCode(t, "add unknown", c.send(t, c.admin, 1, hsmRequest(CmdAddHSM, "hsm:thales:luna", false)), http.StatusBadRequest, "is not configured")
	wantCode(t, "add vault (has entries)", c.send(t, c.admin, 3, hsmRequest(CmdAddHSM, vault, false)), http.StatusConflict, "already has a sealed root encryption key entry")

	// a restart does not re-create the removed entry by default
	c.runs[2].cancel()
	c.runs[2].exitCode(t, 3*time.Second)
	wantCode(t, "write with a node down", c.send(t, c.admin, 1, hsmRequest(CmdAddHSM, local, false)), http.StatusServiceUnavailable, "not every node is up")
	c.runs[2] = c.nodes[2].run(t)
	c.wantHealthy(t, 3, 5*time.Second)
	if got := c.nodes[2].entries(t); got != vaultOnly {
		t.Errorf("restart re-created the removed entry: %s", got)
	}

	wantCode(t, "add local", c.send(t, c.admin, 1, hsmRequest(CmdAddHSM, local, false)), 0, "")
	before := map[uint32]string{}
	for _, n := range c.nodes {
		s, _, _ := LoadSealed(n.Volume)
		if got := n.entries(t); got != both || len(s.Removed) != 0 {
			t.Errorf("node %d after AddHSM: %s, removed %v", n.ID, got, s.Removed)
		}
		before[n.ID] = s.HSM["local"]
	}
	wantCode(t, "add local again", c.send(t, c.admin, 2, hsmRequest(CmdAddHSM, local, false)), http.StatusConflict, "already has")
	wantCode(t, "add local overwrite", c.send(t, c.admin, 2, hsmRequest(CmdAddHSM, local, true)), 0, "")
	for _, n := range c.nodes {
		if s, _, _ := LoadSealed(n.Volume); s.HSM["local"] == before[n.ID] {
			t.Errorf("node %d: overwrite did not re-seal", n.ID)
		}
	}

	// with restart_recreates_removed a restart seals the removed entry again
	wantCode(t, "remove local", c.send(t, c.admin, 1, hsmRequest(CmdRemoveHSM, local, false)), 0, "")
	c.runs[2].cancel()
	c.runs[2].exitCode(t, 3*time.Second)
	c.nodes[2].setLab(t, "restart_recreates_removed", "true")
	c.runs[2] = c.nodes[2].run(t)
	c.wantHealthy(t, 3, 5*time.Second)
	if got := c.nodes[2].entries(t); got != both {
		t.Errorf("restart_recreates_removed: entries %s", got)
	}
	if got := c.nodes[1].entries(t); got != vaultOnly {
		t.Errorf("node 2 (not restarted): %s", got)
	}
}
