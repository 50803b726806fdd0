package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate"
)

// hsmNoDial runs enable-vault (the approle secret in the environment unless
// noSecret) and reports how many nodes it dialled.
func (s *scenario) hsmNoDial(t *testing.T, noSecret bool, args ...string) (code int, stderr string, dials int) {
	t.Helper()
	before := len(s.dialer.Targets())
	if !noSecret {
		s.env["TEST_APPROLE_SECRET"] = testSecret
	}
	f, _, errOut := testFactory(s.dialer, s.apis, s.env)
	code = Main(context.Background(), f, append([]string{"hsm", "enable-vault", "-i", "testdata/hsm-inventory.yaml", "--skip-vault-check"}, args...))
	return code, errOut.String(), len(s.dialer.Targets()) - before
}

// TestEnableVaultRefusesBeforeConnecting: every check that needs no node
// fails before the first connection, with a usage status and the fix.
func TestEnableVaultRefusesBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	together := filepath.Join(dir, "together.json")
	s := newScenario()
	if code, _, stderr := s.hsm(t, "--dry-run", "--stage2", "together", "--out", together); code != ExitOK {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte("{not json"), 0o600)
	tests := []struct {
		name     string
		noSecret bool
		args     []string
		wants    []string
	}{
		{"no terminal, no --yes", false, nil, []string{"--yes"}},
		{"no terminal, no --yes, with a plan", false, []string{"--plan", together}, []string{"--yes"}},
		{"plan file missing", false, []string{"--yes", "--plan", filepath.Join(dir, "none.json")}, []string{"--plan", "no such file"}},
		{"plan file not a plan", false, []string{"--yes", "--plan", broken}, []string{"not a kmsctl plan"}},
		{"flag contradicts the plan", false, []string{"--yes", "--plan", together, "--stage2", "rolling"}, []string{"--stage2 rolling", "--stage2 together"}},
		{"keep-local-hsm contradicts the plan", false, []string{"--yes", "--plan", together, "--keep-local-hsm"}, []string{"--keep-local-hsm true", "--keep-local-hsm false"}},
		{"secret unreadable", true, []string{"--yes"}, []string{"secret"}},
		{"sudo password file missing", false, []string{"--yes", "--sudo-password-file", filepath.Join(dir, "none-pw")}, []string{"sudo password file", "none-pw"}},
		{"api key file missing", false, []string{"--yes", "--api-key-file", filepath.Join(dir, "none-key")}, []string{"API key", "none-key"}},
		{"--limit", false, []string{"--yes", "--limit", "kms-1"}, []string{"--limit", "all of them must switch"}},
		{"--limit dry run", false, []string{"--dry-run", "--limit", "kms-1"}, []string{"--limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario()
			code, stderr, dials := s.hsmNoDial(t, tt.noSecret, tt.args...)
			if code != ExitUsage || dials != 0 {
				t.Errorf("exit %d after %d dials, want %d before any", code, dials, ExitUsage)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

// TestPlanAloneCarriesItsFlags: --plan FILE without the flags it was made
// with applies them.
func TestPlanAloneCarriesItsFlags(t *testing.T) {
	o := &HSMEnableVaultOptions{Stage2: string(migrate.Stage2Rolling), PlanIn: "p.json", Changed: map[string]bool{}}
	p := &migrate.Plan{Settings: migrate.PlanSettings{Stage2: migrate.Stage2Together, KeepLocalHSM: true, Block: "hsm.vault"}}
	if err := o.adoptPlanFlags(p); err != nil {
		t.Fatal(err)
	}
	if o.Stage2 != "together" || !o.KeepLocalHSM || o.VaultBlock != "hsm.vault" {
		t.Errorf("flags not taken from the plan: %+v", o)
	}
	o = &HSMEnableVaultOptions{Stage2: "together", PlanIn: "p.json", Changed: map[string]bool{"stage2": true}}
	if err := o.adoptPlanFlags(p); err != nil {
		t.Errorf("a flag that repeats the plan is fine: %v", err)
	}
}

// TestStalePlanRefusedBeforeConnecting: a plan made from another inventory
// is refused before any connection.
func TestStalePlanRefusedBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	s := newScenario()
	if code, _, stderr := s.hsm(t, "--dry-run", "--out", plan); code != ExitOK {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	inv, _ := os.ReadFile("testdata/hsm-inventory.yaml")
	edited := filepath.Join(dir, "inv.yaml")
	os.WriteFile(edited, append(inv, []byte("# edited\n")...), 0o600)
	os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o600)
	s = newScenario()
	code, stderr, dials := s.hsmNoDial(t, false, "--yes", "--plan", plan, "-i", edited)
	if code != ExitPreflightFailed || dials != 0 || !strings.Contains(stderr, "changed since the plan") {
		t.Errorf("exit %d after %d dials: %s", code, dials, stderr)
	}
}
