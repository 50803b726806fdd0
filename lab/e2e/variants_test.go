package e2e

import (
	"strings"
	"testing"
)

// variant is one plausible behaviour of the real key manager that the
// stand-in plays (`lab fault all hsm-names ...`, `lab fault all unseal ...`).
type variant struct{ names, unseal string }

var variants = []variant{{"product", "any"}, {"product", "all"}, {"legacy", "any"}, {"legacy", "all"}}

// useVariant resets the lab and switches every node to the variant (the
// lab's defaults otherwise); a lab that cannot play it skips the test.
func (l *lab) useVariant(t *testing.T, v variant) {
	t.Helper()
	l.reset(t)
	for _, f := range [][]string{{"hsm-names", v.names}, {"unseal", v.unseal}} {
		if r := l.labCmd(t, append([]string{"fault", "all"}, f...)...); r.code != 0 {
			t.Skipf("this lab cannot play %s %s: %s", f[0], f[1], r)
		}
	}
	t.Cleanup(func() { l.labCmd(t, "heal", "all") })
	l.restartAll(t)
}

// The full migration under every variant, status naming the HSMs by
// difference, and the operator's API key still accepted at the end
// (status -o json uses it on every node).
func TestMigrateUnderEveryVariant(t *testing.T) {
	l := needLab(t)
	for _, v := range variants {
		t.Run(v.names+"/unseal-"+v.unseal, func(t *testing.T) {
			l.useVariant(t, v)
			tr := l.startLoad(t)
			must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "enable-vault")
			tr.stop(t, true)
			l.assertOnVault(t)
		})
	}
}

// A node whose Vault is out of reach when its Vault block goes in: under
// unseal-any it starts on its local key alone, and the missing sealed entry
// is what gives it away; under unseal-all it does not start. Both halt in
// stage 1 with the node restored and stage 2 never started.
func TestMigrateVaultUnreachableNodeHaltsInStage1UnderEveryVariant(t *testing.T) {
	l := needLab(t)
	for _, v := range variants {
		t.Run(v.names+"/unseal-"+v.unseal, func(t *testing.T) {
			l.useVariant(t, v)
			victim := l.firstFollower(t)
			orig := l.file(t, victim, "/etc/minkms/config.yaml")
			must(t, l.labCmd(t, "fault", victim, "cutoff-vault"), "cutoff-vault")
			r := l.kmsctl(t, nil, enable(l, l.inventory())...)
			if r.code != 5 || !strings.Contains(r.stderr, "halted in stage1 at node "+victim) || !strings.Contains(r.stderr, "restored") {
				t.Fatalf("want exit 5, %s restored in stage 1: %s", victim, r)
			}
			if v.unseal == "any" && !strings.Contains(r.stderr, victim+" started on ") || v.unseal == "any" && !strings.Contains(r.stderr, "only: its Vault HSM has no sealed root key entry") {
				t.Fatalf("under unseal-any the message must name the missing sealed entry: %s", r)
			}
			if got := l.file(t, victim, "/etc/minkms/config.yaml"); got != orig {
				t.Fatalf("%s config not restored", victim)
			}
			l.assertKeysKept(t)
			must(t, l.labCmd(t, "heal", victim, "cutoff-vault"), "heal")
		})
	}
}
