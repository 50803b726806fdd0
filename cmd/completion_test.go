package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// complete runs cobra's hidden __complete, as the shell scripts do.
func complete(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	f, out, _ := testFactory(nil, nil, env)
	Main(context.Background(), f, append([]string{"__complete"}, args...))
	return out.String()
}

func TestFlagValueCompletion(t *testing.T) {
	state := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": state}
	os.MkdirAll(filepath.Join(state, "kmsctl", "runs"), 0o700)
	for _, r := range []string{"20261127T080000Z-aaaaaa", "20261128T080000Z-bbbbbb", "20261128T080000Z-bbbbbb-rollback"} {
		os.WriteFile(filepath.Join(state, "kmsctl", "runs", r+".jsonl"), nil, 0o600)
	}
	tests := []struct {
		args         []string
		want, absent []string
	}{
		{[]string{"status", "-o", ""}, []string{"table", "json"}, nil},
		{[]string{"hsm", "enable-vault", "--stage2", ""}, []string{"rolling", "together"}, nil},
		{[]string{"status", "-i", "testdata/status-inventory.yaml", "--limit", ""}, []string{"kms-1", "kms-2", "kms-3"}, nil},
		{[]string{"hsm", "rollback", "--run", ""}, []string{"20261128T080000Z-bbbbbb\n20261127T080000Z-aaaaaa"}, []string{"rollback\n"}},
	}
	for _, tt := range tests {
		got := complete(t, env, tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: completions %q lack %q", tt.args, got, w)
			}
		}
		for _, w := range tt.absent {
			if strings.Contains(got, w) {
				t.Errorf("%v: completions %q contain %q", tt.args, got, w)
			}
		}
	}
}
