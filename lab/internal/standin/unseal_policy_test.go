package standin

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUnsealPolicy: a Vault block with a bad secret id fails the start under
// unseal: all; under unseal: any the node starts on its local key, logs
// Vault's error, lists the Vault HSM in hsm_active but not in hsm, and gets
// no sealed Vault entry. Vault alone with a bad secret fails under both.
func TestUnsealPolicy(t *testing.T) {
	t.Parallel()
	v := newFakeVault(t)
	badBlock := strings.Replace(vaultBlock(v.URL, "transit"), fakeSecretID, "wrong-secret", 1)
	for _, naming := range []string{NamesLegacy, NamesProduct} {
		t.Run(naming, func(t *testing.T) {
			c := newTestCluster(t, RuleShared, []nodeSpec{{newLocalKey(t), badBlock}})
			n := c.nodes[0]
			n.setLab(t, "hsm_names", naming)
			local, vault := ReportName(naming, LocalHSMName), ReportName(naming, "vault:transit/minkms-sealing-key")

			n.setLab(t, "unseal", UnsealAll)
			r := n.run(t)
			if code := r.exitCode(t, 3*time.Second); code != exitFailed || !strings.Contains(n.Log.String(), "invalid role or secret ID") {
				t.Fatalf("unseal all: exit %d, log:\n%s", code, n.Log)
			}

			n.setLab(t, "unseal", UnsealAny)
			n.Log = &syncBuffer{}
			n.run(t)
			c.wantHealthy(t, 1, 4*time.Second)
			cmds, err := ParseCommands(adminPost(t, c, 1, Frame(CmdClusterStatus, nil)))
			if err != nil {
				t.Fatal(err)
			}
			got := rawHSMFields(t, cmds[0].Msg)
			if got[19] != local || got[20] != local+","+vault {
				t.Errorf("hsm = %q, hsm_active = %q; want %q and %q", got[19], got[20], local, local+","+vault)
			}
			log := n.Log.String()
			want := "minkms: HSM " + vault + " is not available, starting without it: vault:transit/minkms-sealing-key: login: POST "
			if !strings.Contains(log, want) || !strings.Contains(log, "invalid role or secret ID") || !strings.Contains(log, "minkms: HSM  "+local+"\n") {
				t.Errorf("log lacks %q with Vault's error or the banner line:\n%s", want, log)
			}
			if strings.Contains(log, "HSM  "+vault+"\n") {
				t.Errorf("banner lists the failed Vault HSM:\n%s", log)
			}
			s, _, _ := LoadSealed(n.Volume)
			if strings.Join(s.Names(), ",") != LocalHSMName {
				t.Errorf("rek.json entries %v, want local only", s.Names())
			}
		})
	}
}

// TestUnsealAnyNeedsOneHSM: under unseal: any a node whose only HSM fails
// does not start, and says why.
func TestUnsealAnyNeedsOneHSM(t *testing.T) {
	v := newFakeVault(t)
	n := singleNode(t, strings.Replace(vaultBlock(v.URL, "transit"), fakeSecretID, "wrong-secret", 1))
	delete(n.Env, LocalKeyEnv)
	n.setLab(t, "unseal", UnsealAny)
	r := n.run(t)
	if code := r.exitCode(t, 3*time.Second); code != exitFailed || !strings.Contains(n.Log.String(), "cannot unseal: no configured HSM is available: ") {
		t.Fatalf("exit %d, log:\n%s", code, n.Log)
	}
}

// TestSealPolicy covers the tolerant seal (an HSM that cannot seal gets no
// entry) and entries removed with RemoveHSM (not re-created unless asked).
func TestSealPolicy(t *testing.T) {
	ctx := t.Context()
	vol := t.TempDir()
	local := mustLocal(t, newLocalKey(t))
	broken := &fakeHSM{name: "vault:transit/k", inner: mustLocal(t, newLocalKey(t)), sealErr: errors.New("permission denied")}
	if _, err := UnsealWith(ctx, vol, []HSM{local, broken}, SealPolicy{}, discard); err == nil {
		t.Fatal("strict policy: a failing seal must fail the start")
	}
	u, err := UnsealWith(ctx, vol, []HSM{local, broken}, SealPolicy{Tolerant: true}, discard)
	if err != nil || strings.Join(u.Sealed.Names(), ",") != "local" {
		t.Fatalf("tolerant: %v, entries %v", err, u.Sealed.Names())
	}
	vault := &fakeHSM{name: "vault:transit/k", inner: mustLocal(t, newLocalKey(t))}
	u.Sealed.Removed = []string{"vault:transit/k"}
	if err := SaveSealed(vol, u.Sealed); err != nil {
		t.Fatal(err)
	}
	again, err := UnsealWith(ctx, vol, []HSM{local, vault}, SealPolicy{}, discard)
	if err != nil || strings.Join(again.Sealed.Names(), ",") != "local" {
		t.Fatalf("removed entry re-created: %v, %v", err, again.Sealed.Names())
	}
	back, err := UnsealWith(ctx, vol, []HSM{local, vault}, SealPolicy{RecreateRemoved: true}, discard)
	if err != nil || strings.Join(back.Sealed.Names(), ",") != "local,vault:transit/k" || len(back.Sealed.Removed) != 0 {
		t.Fatalf("recreate removed: %v, %+v", err, back.Sealed)
	}
}
