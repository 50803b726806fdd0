package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// runStatusGlobals runs `status` with a runF that only records the global
// options (status reads the config file, unlike version).
func runStatusGlobals(t *testing.T, f *Factory, args ...string) (GlobalOptions, int) {
	t.Helper()
	root := NewRootCmd(f)
	for _, c := range root.Commands() {
		if c.Name() == "status" {
			c.RunE = func(*cobra.Command, []string) error { return nil }
		}
	}
	root.SetArgs(append([]string{"status"}, args...))
	return f.Global, ExitCode(root.ExecuteContext(context.Background()))
}

func TestGlobalPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("inventory: from-file.yaml\nparallel: 3\ntimeout: 5s\nno-color: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want GlobalOptions
	}{
		{"defaults", nil, nil, GlobalOptions{Output: "table", Parallel: 10, Timeout: 30 * time.Second}},
		{"file", nil, []string{"--config-files-for-test"}, GlobalOptions{Inventory: "from-file.yaml", Output: "table", Parallel: 3, Timeout: 5 * time.Second, NoColor: true}},
		{"env over file", map[string]string{"KMSCTL_PARALLEL": "4"}, []string{"--config-files-for-test"},
			GlobalOptions{Inventory: "from-file.yaml", Output: "table", Parallel: 4, Timeout: 5 * time.Second, NoColor: true}},
		{"flag over env", map[string]string{"KMSCTL_PARALLEL": "4"}, []string{"--config-files-for-test", "--parallel", "7", "-i", "flag.yaml", "-o", "json", "-v", "--accept-new-host-keys"},
			GlobalOptions{Inventory: "flag.yaml", Output: "json", Parallel: 7, Timeout: 5 * time.Second, NoColor: true, Verbose: true, AcceptNewHostKeys: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f, _, _ := testFactory(nil, nil, nil)
			args := tt.args
			if len(args) > 0 && args[0] == "--config-files-for-test" {
				args = append([]string{"--config", cfg}, args[1:]...)
			}
			got, code := runStatusGlobals(t, f, args...)
			if code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			if got != tt.want {
				t.Errorf("globals =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "unknown command"},
		{[]string{"version", "--bogus"}, "unknown flag"},
		{[]string{"version", "extra"}, "unknown command"},
		{[]string{"version", "-o", "yaml"}, "must be table or json"},
		{[]string{"version", "--parallel", "0"}, "must be at least 1"},
		{[]string{"status"}, "no inventory"},
		{[]string{"status", "-i", "testdata/missing.yaml"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _, errOut := testFactory(nil, nil, nil)
			if code := Main(context.Background(), f, tt.args); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.want)
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	f, out, _ := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"--help"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range []string{"inventory", "status", "version", "completion"} {
		if !strings.Contains(out.String(), "  "+c+" ") {
			t.Errorf("--help does not list %s:\n%s", c, out)
		}
	}
}

func TestVersion(t *testing.T) {
	f, out, _ := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"version", "-o", "json"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{`"schema": "kmsctl.version/v1"`, `"version": "dev"`, `"commit": "dev"`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("version JSON lacks %s:\n%s", w, out)
		}
	}
}

func TestCompletion(t *testing.T) {
	f, out, _ := testFactory(nil, nil, nil)
	if code := Main(context.Background(), f, []string{"completion", "bash"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "__start_kmsctl") {
		t.Error("no bash completion script on stdout")
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{os.ErrNotExist, ExitFailed},
		{usageError(os.ErrInvalid), ExitUsage},
		{&ExitError{Code: ExitPreflightFailed, Err: fmt.Errorf("open: %w", usageError(os.ErrInvalid))}, ExitUsage},
		{errChangesPending, ExitChanges},
		{errSilentUnhealthy, ExitUnhealthy},
		{&ExitError{Code: ExitRollbackFailed, Err: os.ErrClosed}, 7},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
