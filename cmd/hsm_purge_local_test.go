package cmd

import (
	"context"
	"strings"
	"testing"
)

func (s *scenario) purgeLocal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	code = Main(context.Background(), f, append([]string{"hsm", "purge-local", "-i", "testdata/hsm-inventory.yaml"}, args...))
	return code, out.String(), errOut.String()
}

func TestPurgeLocalRefusesWithoutTerminalOrYes(t *testing.T) {
	s := newScenario()
	code, _, stderr := s.purgeLocal(t)
	if code != ExitUsage || !strings.Contains(stderr, "--yes") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestEnableVaultKeepLocalEntryReachesThePlan(t *testing.T) {
	s := newScenario()
	s.env["MINIO_KMS_API_KEY"] = "k1:fake"
	code, out, stderr := s.hsm(t, "--dry-run", "--keep-local-entry")
	if code != ExitOK || !strings.Contains(out, "skipped (--keep-local-entry)") {
		t.Fatalf("exit %d; plan:\n%s\n%s", code, out, stderr)
	}
}
