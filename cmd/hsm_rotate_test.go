package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func (s *scenario) rotate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	code = Main(context.Background(), f, append([]string{"hsm", "rotate", "-i", "testdata/hsm-inventory.yaml"}, args...))
	return code, out.String(), errOut.String()
}

func TestRotateFlagsRefusedBeforeAnyConnection(t *testing.T) {
	for _, args := range [][]string{
		{"--vault-token-file", "x", "--admin-role-id", "r"},
		{"--admin-secret-id-file", "x"},
		{"--admin-role-id", "r", "--admin-secret-id-file", "x", "--admin-secret-id-env", "Y"},
		{"--gate-timeout", "0s"},
	} {
		s := newScenario()
		code, _, stderr := s.rotate(t, args...)
		if code != ExitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestRotateNeedsARotationIdentity(t *testing.T) {
	s := newScenario()
	code, _, stderr := s.rotate(t, "--dry-run")
	if code != ExitUsage || !strings.Contains(stderr, "VAULT_TOKEN") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestRotateSecretsNeverShown(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("rotate-SHOULD-NEVER-APPEAR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newScenario()
	s.env["VAULT_TOKEN"] = "hvs.env-SHOULD-NEVER-APPEAR"
	for _, args := range [][]string{{"--dry-run"}, {"--dry-run", "--admin-role-id", "r", "--admin-secret-id-file", file}} {
		code, out, stderr := s.rotate(t, args...)
		if code == ExitOK || strings.Contains(out+stderr, "SHOULD-NEVER-APPEAR") {
			t.Errorf("%v: exit %d, output %q %q", args, code, out, stderr)
		}
	}
}
