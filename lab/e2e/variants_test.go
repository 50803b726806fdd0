package e2e

import (
	"strings"
	"testing"
	"time"
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

// A node whose Vault is out of reach: before the run, the preflight's
// Vault check from that node finds it and nothing changes; once the run is
// under way (the leader, last in stage 1, cut off after the first node's
// gate), under unseal-any it starts on its local key alone and the missing
// sealed entry gives it away, under unseal-all it does not start. Both halt
// in stage 1 with the node restored and stage 2 never started.
func TestMigrateVaultUnreachableNodeHaltsInStage1UnderEveryVariant(t *testing.T) {
	l := needLab(t)
	for _, v := range variants {
		t.Run(v.names+"/unseal-"+v.unseal, func(t *testing.T) {
			l.useVariant(t, v)
			leader := l.leader(t)
			orig := l.file(t, leader, "/etc/minkms/config.yaml")
			must(t, l.labCmd(t, "fault", leader, "cutoff-vault"), "cutoff-vault")
			if r := l.kmsctl(t, nil, enable(l, l.inventory())...); r.code != 4 || !strings.Contains(r.stderr, leader) {
				t.Fatalf("a node without a route to Vault must fail the preflight: %s", r)
			}
			must(t, l.labCmd(t, "heal", leader, "cutoff-vault"), "heal")
			run := l.start(t, enable(l, l.inventory(), "--settle", "4s")...)
			run.waitFor(t, 3*time.Minute, func(e event) bool { return e.Phase == "stage1" && e.Step == "gate" && e.Result == "ok" })
			must(t, l.labCmd(t, "fault", leader, "cutoff-vault"), "cutoff-vault")
			code, stderr := run.wait(t), run.stderr.String()
			if code != 5 || !strings.Contains(stderr, "halted in stage1 at node "+leader) || !strings.Contains(stderr, "restored") {
				t.Fatalf("want exit 5, %s restored in stage 1: exit %d\n%s", leader, code, stderr)
			}
			if v.unseal == "any" && !strings.Contains(stderr, leader+" started on ") || v.unseal == "any" && !strings.Contains(stderr, "only: its Vault HSM has no sealed root key entry") {
				t.Fatalf("under unseal-any the message must name the missing sealed entry:\n%s", stderr)
			}
			if got := l.file(t, leader, "/etc/minkms/config.yaml"); got != orig {
				t.Fatalf("%s config not restored", leader)
			}
			l.assertKeysKept(t)
			must(t, l.labCmd(t, "heal", leader, "cutoff-vault"), "heal")
		})
	}
}

// On a lab whose nodes have no admin.identity (the root API key is derived
// from the first HSM, as the product's chart describes), the migration pins
// admin.identity to the operator's key, visibly, and the key still works on
// every node at the end; with --no-pin-admin it is refused up front.
func TestMigrateDerivedAdminIdentity(t *testing.T) {
	l := needLab(t)
	if l.getenv("LAB_ADMIN_IDENTITY") != "derived" {
		t.Skip("the lab pins admin.identity (lab up --admin-identity derived plays the other variant)")
	}
	l.reset(t)
	r := l.kmsctl(t, nil, enable(l, l.inventory(), "--no-pin-admin")...)
	if r.code != 4 || !strings.Contains(r.stderr, "sets no admin.identity") || !strings.Contains(r.stderr, "identity: ") {
		t.Fatalf("--no-pin-admin must refuse with the lines to add: %s", r)
	}
	plan := must(t, l.kmsctl(t, nil, "hsm", "enable-vault", "-i", l.inventory(), "--dry-run"), "dry run")
	if !strings.Contains(plan.stdout, "+admin:") || !strings.Contains(plan.stdout, "+  identity: ") {
		t.Fatalf("the plan must show the pinned admin.identity: %s", plan)
	}
	must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "enable-vault")
	l.assertOnVault(t)
}

// A Vault block that cannot work (a wrong secret id, a transit key the
// policy does not cover), let through with --skip-vault-check so that the
// node itself meets it: under unseal-any the first node starts on its local
// key alone and the missing sealed entry gives it away, under unseal-all it
// does not start. Either way the run halts in stage 1 with that node
// restored, stage 2 never starts, and the message says why.
func TestMigrateBrokenVaultBlockHaltsInStage1UnderEveryUnseal(t *testing.T) {
	l := needLab(t)
	wrongSecret := randomUUID(t)
	for _, unseal := range []string{"any", "all"} {
		for _, tc := range []struct {
			name string
			edit func(m map[string]any)
		}{
			{"wrong secret id", func(m map[string]any) {
				section(m, "vault", "approle")["secret_file"] = writeTemp(t, "secret-id", []byte(wrongSecret+"\n"))
			}},
			{"wrong transit key", func(m map[string]any) { section(m, "vault", "transit")["key"] = "no-such-key" }},
		} {
			t.Run("unseal-"+unseal+"/"+tc.name, func(t *testing.T) {
				l.useVariant(t, variant{"product", unseal})
				first := l.firstFollower(t)
				orig := l.file(t, first, "/etc/minkms/config.yaml")
				inv := l.variant(t, "inventory.yaml", tc.edit)
				r := l.kmsctl(t, nil, enable(l, inv, "--skip-vault-check", "--settle", "2s")...)
				if r.code != 5 || !strings.Contains(r.stderr, "halted in stage1 at node "+first) || !strings.Contains(r.stderr, "restored") {
					t.Fatalf("want exit 5, %s restored in stage 1: %s", first, r)
				}
				if unseal == "any" && !strings.Contains(r.stderr, first+" started on hsm:minio:soft only: its Vault HSM has no sealed root key entry") {
					t.Fatalf("under unseal-any the message must name the missing sealed entry: %s", r)
				}
				if strings.Contains(r.stderr, wrongSecret) {
					t.Fatal("the secret id is in the message")
				}
				if got := l.file(t, first, "/etc/minkms/config.yaml"); got != orig {
					t.Fatalf("%s config not restored:\n%s", first, got)
				}
				l.assertKeysKept(t)
			})
		}
	}
}
