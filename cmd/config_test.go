package cmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// xdgConfig writes $XDG_CONFIG_HOME/kmsctl/config.yaml and returns a factory
// whose environment points at it.
func xdgConfig(t *testing.T, content string) *Factory {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "kmsctl", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, _ := testFactory(nil, nil, map[string]string{"XDG_CONFIG_HOME": dir})
	return f
}

func TestConfigFromXDG(t *testing.T) {
	f := xdgConfig(t, "parallel: 3\ninventory: kms.yaml\naccept-new-host-keys: false\n")
	g, code := runStatusGlobals(t, f)
	if code != ExitOK || g.Parallel != 3 || g.Inventory != "kms.yaml" || g.AcceptNewHostKeys {
		t.Errorf("exit %d, globals %+v: the XDG config file was not read", code, g)
	}
}

// TestConfigNotFromCurrentDirectory: a kmsctl.yaml (or config.yaml) of the
// current directory, as in a repository checkout, is never read.
func TestConfigNotFromCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kmsctl.yaml", "config.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("parallel: 3\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	f, _, _ := testFactory(nil, nil, map[string]string{"HOME": t.TempDir()})
	g, code := runStatusGlobals(t, f)
	if code != ExitOK || g.Parallel != 10 {
		t.Errorf("exit %d, parallel %d: a file of the current directory was read", code, g.Parallel)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"unknown key", "output: json\nparalel: 5\n", "config.yaml:2:1: paralel: unknown setting (known: "},
		{"weakens security", "accept-new-host-keys: true\n", "config.yaml:1:1: accept-new-host-keys: weakens security: accepted only as the command-line flag --accept-new-host-keys"},
		{"bad value", "output: yaml\n", "config.yaml:1:1: output: --output \"yaml\": must be table or json"},
		{"bad type", "timeout: soon\n", "config.yaml:1:1: timeout: \"soon\": "},
		{"tab", "output: json\n\tparallel: 3\n", "config.yaml:2:1: a tab in the indentation"},
		{"not a mapping", "- a\n", "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := xdgConfig(t, tt.content)
			errOut := f.IO.ErrOut.(interface{ String() string })
			if code := Main(context.Background(), f, []string{"status", "-i", "testdata/status-inventory.yaml"}); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.want)
			}
		})
	}
}

// TestConfigBrokenDoesNotBreakCompletion: completion, version and help
// work whatever the config file says.
func TestConfigBrokenDoesNotBreakCompletion(t *testing.T) {
	for _, args := range [][]string{{"completion", "bash"}, {"version"}, {"help", "status"}, {"status", "--help"}, {"__complete", "status", "-o", ""}} {
		f := xdgConfig(t, "output: yaml\nparalel: 5\n")
		out := f.IO.Out.(interface{ String() string })
		if code := Main(context.Background(), f, args); code != ExitOK || out.String() == "" {
			t.Errorf("%v with a broken config: exit %d, stdout %d bytes", args, code, len(out.String()))
		}
	}
}

func TestConfigExplicit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ci.yaml")
	if err := os.WriteFile(cfg, []byte("parallel: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, _ := testFactory(nil, nil, nil)
	if g, code := runStatusGlobals(t, f, "--config", cfg); code != ExitOK || g.Parallel != 2 {
		t.Errorf("--config: exit %d, parallel %d", code, g.Parallel)
	}
	f, _, _ = testFactory(nil, nil, nil)
	if _, code := runStatusGlobals(t, f, "--config", filepath.Join(dir, "none.yaml")); code != ExitUsage {
		t.Errorf("--config of a missing file: exit %d, want %d", code, ExitUsage)
	}
}

// TestWeakeningEnvRefused: KMSCTL_ACCEPT_NEW_HOST_KEYS cannot relax host
// key checking; only the flag can.
func TestWeakeningEnvRefused(t *testing.T) {
	t.Setenv("KMSCTL_ACCEPT_NEW_HOST_KEYS", "true") // viper reads the process environment
	f, _, errOut := testFactory(nil, nil, map[string]string{"KMSCTL_ACCEPT_NEW_HOST_KEYS": "true"})
	if code := Main(context.Background(), f, []string{"status", "-i", "testdata/status-inventory.yaml"}); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errOut.String(), "KMSCTL_ACCEPT_NEW_HOST_KEYS is set") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestDocsNameOnlyRealVariables: every KMSCTL_* variable the user docs
// mention exists (KMSCTL_SUDO_PASSWORD did not).
func TestDocsNameOnlyRealVariables(t *testing.T) {
	real := map[string]bool{}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	addGlobalFlags(fs)
	fs.VisitAll(func(fl *pflag.Flag) { real[envName(fl.Name)] = !weakensSecurity(fl.Name) })
	re := regexp.MustCompile(`KMSCTL_[A-Z0-9_]+`)
	files, _ := filepath.Glob("../docs/*.md")
	for _, file := range append(files, "../README.md") {
		b, _ := os.ReadFile(file)
		for _, v := range re.FindAllString(string(b), -1) {
			if !real[v] && !strings.HasPrefix(v, "KMSCTL_LAB_") {
				t.Errorf("%s mentions %s, which kmsctl does not read", file, v)
			}
		}
	}
}
