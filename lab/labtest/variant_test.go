package labtest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// hsmLists returns one node's own ClusterStatus HSM lists (fields 19, 20).
func (l *lab) hsmLists(node string) (labdir.HSMLists, error) {
	c, err := labdir.NewKMSClient(l.dir, l.addr(node)+":7373", l.env["MINIO_KMS_API_KEY"])
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := labdir.ClusterHSMs(ctx, c)
	if err != nil {
		return labdir.HSMLists{}, err
	}
	for _, n := range l.state.Nodes {
		if n.Name == node {
			return all[uint32(n.Index)], nil
		}
	}
	return labdir.HSMLists{}, nil
}

// namesUnder is the local HSM's and the Vault HSM's name under a naming.
func namesUnder(naming string) (local, vault string) {
	if naming == "product" {
		return "hsm:minio:soft", "hsm:hashicorp:vault"
	}
	return "local", vaultHSM
}

// TestHSMNamesFault flips one node's naming with `lab fault NODE hsm-names`
// and back with heal: after each restart the node reports its local HSM and
// its Vault HSM under that naming, in its journal's banner and in
// ClusterStatus, and still unseals (its rek.json is unchanged).
func TestHSMNamesFault(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, configFile, rekFile)
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", l.approle("LAB_APPROLE_ID", "LAB_APPROLE_SECRET_FILE")))
	other := "product"
	if l.env["LAB_HSM_NAMES"] == "product" {
		other = "legacy"
	}
	for _, naming := range []string{other, l.env["LAB_HSM_NAMES"]} {
		if naming == other {
			l.fault("fault", node, "hsm-names", naming)
		} else {
			l.fault("heal", node, "hsm-names")
		}
		since := l.restart(node)
		eventually(t, 30*time.Second, node+" ready", func() bool { return l.readyCode(node) == http.StatusOK })
		local, vault := namesUnder(naming)
		want := []string{local, vault}
		var got labdir.HSMLists
		eventually(t, 10*time.Second, "hsm lists under "+naming, func() bool {
			var err error
			got, err = l.hsmLists(node)
			return err == nil && slices.Equal(got.Sealed, want) && slices.Equal(got.Configured, want)
		})
		j := l.journal(node, since)
		for _, name := range want {
			if !strings.Contains(j, "HSM  "+name+"\n") {
				t.Errorf("%s: journal lacks the banner line for %s:\n%s", naming, name, j)
			}
		}
	}
}

// TestUnsealPolicyFault: a Vault block with a wrong secret id fails the
// start under unseal: all; after `lab fault NODE unseal any` the node starts
// on its local key, its journal carries Vault's error, ClusterStatus lists
// the Vault HSM as configured but without a sealed entry, and rek.json has
// no Vault entry.
func TestUnsealPolicyFault(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, configFile, rekFile)
	l.addVaultBlock(node, l.vaultBlock("hashicorp.vault", "approle:\n  id: "+l.env["LAB_APPROLE_ID"]+"\n  secret: not-the-secret-id\n"))
	local, vault := namesUnder(l.env["LAB_HSM_NAMES"])

	l.fault("fault", node, "unseal", "all")
	since := l.restart(node)
	eventually(t, 20*time.Second, "journal with Vault's login error", func() bool {
		return strings.Contains(l.journal(node, since), "cannot unseal: vault:transit/minkms-sealing-key: login")
	})
	if l.readyCode(node) == http.StatusOK {
		t.Error("ready under unseal: all with a broken Vault block")
	}

	l.fault("fault", node, "unseal", "any")
	since = l.restart(node)
	eventually(t, 30*time.Second, node+" ready on its local key", func() bool { return l.readyCode(node) == http.StatusOK })
	var got labdir.HSMLists
	eventually(t, 10*time.Second, "hsm lists", func() bool {
		var err error
		got, err = l.hsmLists(node)
		return err == nil && slices.Equal(got.Sealed, []string{local}) && slices.Equal(got.Configured, []string{local, vault})
	})
	if j := l.journal(node, since); !strings.Contains(j, "HSM "+vault+" is not available, starting without it") {
		t.Errorf("journal lacks the failed HSM line:\n%s", j)
	}
	if e := l.hsmEntries(node); !slices.Equal(e, []string{"local"}) {
		t.Errorf("rek.json entries %v, want local only", e)
	}
}

// TestDerivedAdminIdentity: a node whose config.yaml has no admin.identity
// prints the root API key derived from its local HSM key (`API Key k1:...`),
// accepts it for admin commands and refuses others. In a lab made with
// --admin-identity derived that key is env.sh's MINIO_KMS_API_KEY on every
// node; otherwise the test removes one node's admin block.
func TestDerivedAdminIdentity(t *testing.T) {
	l := needLab(t)
	hsmKey, err := l.dir.ReadSecret(labdir.SecretHSMKey)
	if err != nil {
		t.Fatal(err)
	}
	want, err := standin.LocalRootAPIKey(strings.TrimSpace(hsmKey))
	if err != nil {
		t.Fatal(err)
	}
	node := l.last()
	if l.env["LAB_ADMIN_IDENTITY"] == "derived" {
		if l.env["MINIO_KMS_API_KEY"] != want.String() {
			t.Fatal("env.sh's API key is not the key derived from the local HSM key")
		}
	} else {
		l.guardNode(node, configFile)
		cfg := l.mustExec(node, "cat", configFile)
		noAdmin := regexp.MustCompile(`(?m)^admin:\n(  .*\n)+`).ReplaceAllString(cfg, "")
		if noAdmin == cfg {
			t.Fatalf("no admin block to remove in:\n%s", cfg)
		}
		l.writeNodeFile(node, configFile, "640", "root", "minkms-user", []byte(noAdmin))
		l.restart(node)
		eventually(t, 30*time.Second, node+" ready", func() bool { return l.readyCode(node) == http.StatusOK })
		if _, err := l.clusterStatus(node); err == nil {
			t.Error("the pinned lab API key still works on a node without admin.identity")
		}
	}
	if j := l.journal(node, time.Time{}); !strings.Contains(j, "API Key "+want.String()+"\n") {
		t.Errorf("%s's journal lacks the derived API key line", node)
	}
	eventually(t, 10*time.Second, "ClusterStatus with the derived key", func() bool {
		_, err := l.clusterStatusWith(node, want.String())
		return err == nil
	})
}
