package labtest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// hsmCommand sends AddHSM (5) or RemoveHSM (6), hand-framed (the SDK in
// go.mod predates them), through the SDK's client to one node.
func (l *lab) hsmCommand(node string, cmd uint16, name string, overwrite bool) error {
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, name)
	if overwrite {
		msg = protowire.AppendTag(msg, 2, protowire.VarintType)
		msg = protowire.AppendVarint(msg, 1)
	}
	c, err := labdir.NewKMSClient(l.dir, l.addr(node)+":7373", l.env["MINIO_KMS_API_KEY"])
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.Send(ctx, &kms.Request{Body: standin.Frame(cmd, msg)})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// TestRemoveAndAddHSM: on a lab whose nodes all have a Vault block,
// RemoveHSM of the local HSM deletes its entry on every node, a restart
// does not bring it back (unless the lab re-creates removed entries), and
// AddHSM seals it again (refused while it exists, unless overwrite).
func TestRemoveAndAddHSM(t *testing.T) {
	l := needLab(t)
	block := l.vaultBlock("hashicorp.vault", l.approle("LAB_APPROLE_ID", "LAB_APPROLE_SECRET_FILE"))
	for _, n := range l.state.Nodes {
		l.guardNode(n.Name, configFile, rekFile)
		l.addVaultBlock(n.Name, block)
		l.restart(n.Name)
		eventually(t, 30*time.Second, n.Name+" ready", func() bool { return l.readyCode(n.Name) == http.StatusOK })
	}
	eventually(t, 10*time.Second, "every node ready for writes", func() bool {
		for _, n := range l.state.Nodes {
			if len(l.hsmEntries(n.Name)) != 2 {
				return false
			}
		}
		return true
	})
	local, _ := namesUnder(l.env["LAB_HSM_NAMES"])
	first, last := l.state.Nodes[0].Name, l.last()
	var err error
	eventually(t, 10*time.Second, "RemoveHSM accepted", func() bool {
		err = l.hsmCommand(first, 6, local, false)
		return err == nil
	})
	for _, n := range l.state.Nodes {
		if e := l.hsmEntries(n.Name); !slices.Equal(e, []string{vaultHSM}) {
			t.Errorf("%s after RemoveHSM: %v", n.Name, e)
		}
	}
	l.restart(last)
	eventually(t, 30*time.Second, last+" ready", func() bool { return l.readyCode(last) == http.StatusOK })
	wantAfterRestart := []string{vaultHSM}
	if l.env["LAB_RESTART_RECREATES_REMOVED"] == "true" {
		wantAfterRestart = []string{"local", vaultHSM}
	}
	if e := l.hsmEntries(last); !slices.Equal(e, wantAfterRestart) {
		t.Errorf("%s after a restart: %v, want %v", last, e, wantAfterRestart)
	}
	if l.env["LAB_RESTART_RECREATES_REMOVED"] == "true" {
		return
	}
	eventually(t, 20*time.Second, "AddHSM accepted", func() bool {
		err = l.hsmCommand(last, 5, local, false)
		return err == nil
	})
	for _, n := range l.state.Nodes {
		if e := l.hsmEntries(n.Name); !slices.Equal(e, []string{"local", vaultHSM}) {
			t.Errorf("%s after AddHSM: %v", n.Name, e)
		}
	}
	var kerr kms.Error
	if err := l.hsmCommand(first, 5, local, false); !errors.As(err, &kerr) || kerr.Code != http.StatusConflict {
		t.Errorf("AddHSM of an existing entry: %v", err)
	}
	if err := l.hsmCommand(first, 5, local, true); err != nil {
		t.Errorf("AddHSM with overwrite: %v", err)
	}
}
