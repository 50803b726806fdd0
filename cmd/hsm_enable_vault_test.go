package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

const testSecret = "SECRET-ID-must-never-show"

func (s *scenario) hsm(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s.env["TEST_APPROLE_SECRET"] = testSecret
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	code = Main(context.Background(), f, append([]string{"hsm", "enable-vault", "-i", "testdata/hsm-inventory.yaml", "--skip-vault-check"}, args...))
	return code, out.String(), errOut.String()
}

// TestDryRunGolden: the plan of a cluster where kms-3 already has a Vault
// block of other settings, the leader (kms-2) restarts last, and nothing
// is written or restarted.
func TestDryRunGolden(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			s := newScenario()
			s.env["MINIO_KMS_API_KEY"] = "k1:fake"
			plan := filepath.Join(t.TempDir(), "plan.json")
			code, out, stderr := s.hsm(t, "--dry-run", "-o", format, "--out", plan, "--detailed-exitcode")
			if code != ExitChanges {
				t.Fatalf("--detailed-exitcode with changes pending: exit %d, want 2; stderr: %s", code, stderr)
			}
			golden(t, filepath.Join("testdata", "hsm_dry_run."+map[string]string{"table": "txt", "json": "json"}[format]), out)
			for name, n := range s.nodes {
				for _, c := range n.Calls() {
					if c.Op != remotetest.OpRun {
						continue
					}
					argv := c.Args
					readOnlyCheck := argv[0] == "sh" && len(argv) > 2 && strings.HasPrefix(argv[2], "# kmsctl-filecheck")
					if argv[0] == "systemctl" && argv[1] != "show" || argv[0] == "sh" && !readOnlyCheck || argv[0] == "rm" || argv[0] == "install" {
						t.Errorf("%s: a dry run ran %v", name, argv)
					}
				}
			}
			s.noWrites(t)
			saved := readFile(t, plan)
			for where, text := range map[string]string{"stdout": out, "stderr": stderr, "plan": saved} {
				if strings.Contains(text, testSecret) || strings.Contains(text, "hsm:aes256:") {
					t.Errorf("a secret appears in %s", where)
				}
			}
			var p migrate.Plan
			if err := json.Unmarshal([]byte(saved), &p); err != nil || p.Schema != migrate.PlanSchema || p.Leader != "kms-2" || strings.Join(p.Order, ",") != "kms-1,kms-3,kms-2" {
				t.Fatalf("saved plan: %v %+v", err, p)
			}
		})
	}
}

func TestApplyRefusesWithoutTerminalOrYes(t *testing.T) {
	s := newScenario()
	code, _, stderr := s.hsm(t)
	if code != ExitUsage || !strings.Contains(stderr, "--yes") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestEnableVaultFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--stage2", "sometimes"},
		{"--dry-run", "--plan", "p.json"},
		{"--out", "p.json"},
		{"--vault-block", "hsm.other", "--dry-run"},
	} {
		s := newScenario()
		if code, _, stderr := s.hsm(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}

func TestRolloutExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&migrate.PreflightError{Err: context.Canceled}, ExitPreflightFailed},
		{&migrate.HaltError{Node: "kms-1", Cause: context.Canceled, Restored: true}, ExitHaltedRestored},
		{&migrate.RestoreError{Node: "kms-1", Cause: context.Canceled, Restore: context.Canceled}, ExitRollbackFailed},
		// A restore that failed is never "halted, node restored".
		{&migrate.HaltError{Node: "kms-1", Cause: context.Canceled, Restored: false}, ExitRollbackFailed},
		{&migrate.HaltError{Node: "kms-1", Cause: context.Canceled, Unchanged: true}, ExitHaltedRestored},
		{migrate.ErrInterrupted, ExitInterrupted},
	}
	for _, tt := range tests {
		if got := ExitCode(rolloutExit(tt.err, "run-1")); got != tt.want {
			t.Errorf("%v: exit %d, want %d", tt.err, got, tt.want)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
