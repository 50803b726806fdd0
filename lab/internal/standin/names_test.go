package standin

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReportNames(t *testing.T) {
	ids := []string{"local", "vault:transit/k", "vault:kms-transit/k", "openbao:transit/k", "minkms:transit/k"}
	if got := ReportNames(NamesLegacy, ids); !slices.Equal(got, ids) {
		t.Errorf("legacy = %v", got)
	}
	want := []string{"hsm:minio:soft", "hsm:hashicorp:vault", "hsm:openssf:openbao", "hsm:minio:minkms"}
	if got := ReportNames(NamesProduct, ids); !slices.Equal(got, want) {
		t.Errorf("product = %v, want %v", got, want)
	}
	if got := idsNamed(NamesProduct, "hsm:hashicorp:vault", ids); !slices.Equal(got, ids[1:3]) {
		t.Errorf("ids named hsm:hashicorp:vault = %v", got)
	}
	if got := idsNamed(NamesLegacy, "hsm:minio:soft", ids); got != nil {
		t.Errorf("legacy naming knows no product name: %v", got)
	}
}

// TestHSMNamesSetting: the same volume reports product names, then legacy
// names after lab.yaml flips, and unseals under both (rek.json keeps ids).
func TestHSMNamesSetting(t *testing.T) {
	t.Parallel()
	v := newFakeVault(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{newLocalKey(t), vaultBlock(v.URL, "transit")}})
	n := c.nodes[0]
	n.setLab(t, "hsm_names", NamesProduct)
	check := func(naming, want string) {
		t.Helper()
		n.Log = &syncBuffer{}
		r := n.run(t)
		c.wantHealthy(t, 1, 4*time.Second)
		cmds, err := ParseCommands(adminPost(t, c, 1, Frame(CmdClusterStatus, nil)))
		if err != nil {
			t.Fatal(err)
		}
		got := rawHSMFields(t, cmds[0].Msg)
		if got[19] != want || got[20] != want {
			t.Errorf("%s: hsm fields = %v, want %s", naming, got, want)
		}
		for _, name := range strings.Split(want, ",") {
			if !strings.Contains(n.Log.String(), "minkms: HSM  "+name+"\n") {
				t.Errorf("%s: no banner line for %s in\n%s", naming, name, n.Log)
			}
		}
		r.cancel()
		r.exitCode(t, 3*time.Second)
	}
	check(NamesProduct, "hsm:minio:soft,hsm:hashicorp:vault")
	n.setLab(t, "hsm_names", NamesLegacy)
	check(NamesLegacy, "local,vault:transit/minkms-sealing-key")
}
