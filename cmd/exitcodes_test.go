package cmd

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestMain lets the test binary stand in for kmsctl in shell scripts: with
// KMSCTL_TEST_AS_KMSCTL=1 it runs Main against the fake three-node cluster
// of newScenario, so a CI snippet from the docs runs as written.
func TestMain(m *testing.M) {
	if os.Getenv("KMSCTL_TEST_AS_KMSCTL") == "1" {
		s := newScenario()
		s.env["TEST_APPROLE_SECRET"] = testSecret
		f, out, errOut := testFactory(s.dialer, s.apis, s.env)
		args := os.Args[1:]
		if len(args) > 1 && args[0] == "hsm" {
			args = append(args, "--skip-vault-check") // no Vault in unit tests
		}
		code := Main(context.Background(), f, args)
		os.Stdout.Write(out.Bytes())
		os.Stderr.Write(errOut.Bytes())
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestExitCodesDocumented: docs/exit-codes.md lists exactly the statuses
// of exitcodes.go, with the same names.
func TestExitCodesDocumented(t *testing.T) {
	f, err := os.Open("../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\| (\d+) \| ([^|]+) \|`)
	doc := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			doc[n] = strings.TrimSpace(m[2])
		}
	}
	for code, name := range exitNames {
		if doc[code] != name {
			t.Errorf("docs/exit-codes.md: status %d is %q, exitcodes.go says %q", code, doc[code], name)
		}
	}
	for code := range doc {
		if _, ok := exitNames[code]; !ok {
			t.Errorf("docs/exit-codes.md documents status %d, which exitcodes.go does not have", code)
		}
	}
	if ExitUsage == ExitChanges {
		t.Error("a usage error must never look like changes pending")
	}
}

// allCommands lists every user-visible command path of the tree.
func allCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" {
			continue
		}
		out = append(out, sub)
		out = append(out, allCommands(sub)...)
	}
	return out
}

func cmdArgs(c *cobra.Command) []string {
	return strings.Fields(strings.TrimPrefix(c.CommandPath(), "kmsctl "))
}

// TestUsageExitEveryCommand: in every command an unknown flag, and in every
// command group an unknown subcommand, exits ExitUsage (never 0, never 2).
func TestUsageExitEveryCommand(t *testing.T) {
	f0, _, _ := testFactory(nil, nil, nil)
	for _, c := range allCommands(NewRootCmd(f0)) {
		args := append(cmdArgs(c), "--no-such-flag")
		want := "unknown flag"
		if c.HasSubCommands() {
			args, want = append(cmdArgs(c), "typo"), "unknown command \"typo\""
		}
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, _, errOut := testFactory(nil, nil, nil)
			if code := Main(context.Background(), f, args); code != ExitUsage {
				t.Errorf("exit %d, want %d (usage); stderr %s", code, ExitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr %q lacks %q", errOut, want)
			}
		})
	}
}

// TestUsageExitTypos: mistyped subcommands get cobra's suggestion, bad
// flag values name the flag; all exit ExitUsage.
func TestUsageExitTypos(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"vault", "chek"}, "Did you mean this?\n\tcheck"},
		{[]string{"inventory", "valdate"}, "Did you mean this?\n\tvalidate"},
		{[]string{"hsm", "enable-vualt"}, "Did you mean this?\n\tenable-vault"},
		{[]string{"stauts"}, "Did you mean this?\n\tstatus"},
		{[]string{"hsm", "enable-vault", "-i", "testdata/hsm-inventory.yaml", "--dry-run", "--stage2", "rollling"}, `--stage2 "rollling"`},
		{[]string{"status", "--parallel", "many"}, "invalid argument"},
		{[]string{"status", "--timeout", "soon"}, "invalid argument"},
		{[]string{"status", "-o", "yaml"}, "must be table or json"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			s := newScenario()
			f, out, errOut := testFactory(s.dialer, s.apis, s.env)
			if code := Main(context.Background(), f, tt.args); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("a usage error wrote to stdout: %q", out)
			}
		})
	}
}

// inventoryCommands are the invocations of every command that reads an
// inventory, ready to reach the inventory check.
var inventoryCommands = [][]string{
	{"inventory", "validate"},
	{"status"},
	{"vault", "check"},
	{"hsm", "enable-vault", "--dry-run", "--skip-vault-check"},
	{"hsm", "enable-vault", "--yes", "--skip-vault-check"},
	{"hsm", "rollback", "--run", "20261127T080000Z-abcdef", "--yes"},
	{"hsm", "purge-local", "--yes"},
	{"hsm", "rotate", "--dry-run", "--skip-vault-check"},
}

// TestInventoryExitSameEverywhere: no -i, a missing file and an invalid
// file exit ExitUsage in every command that reads an inventory, and the
// list above covers every command documented with -i FILE.
func TestInventoryExitSameEverywhere(t *testing.T) {
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(invalid, []byte("version: v1\nnodes:\n  - {name: a, address: 'not an address'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"no -i":        nil,
		"missing file": {"-i", filepath.Join(dir, "none.yaml")},
		"invalid file": {"-i", invalid},
	}
	for _, base := range inventoryCommands {
		for name, extra := range cases {
			args := append(append([]string{}, base...), extra...)
			t.Run(strings.Join(base, " ")+"/"+name, func(t *testing.T) {
				s := newScenario()
				f, _, errOut := testFactory(s.dialer, s.apis, s.env)
				if code := Main(context.Background(), f, args); code != ExitUsage {
					t.Errorf("exit %d, want %d; stderr %s", code, ExitUsage, errOut)
				}
			})
		}
	}
	f, _, _ := testFactory(nil, nil, nil)
	covered := map[string]bool{}
	for _, c := range inventoryCommands {
		covered[strings.Join(c[:min(2, len(c))], " ")] = true
		covered[c[0]] = true
	}
	for _, c := range allCommands(NewRootCmd(f)) {
		if strings.Contains(c.Use, "-i FILE") && !covered[strings.Join(cmdArgs(c), " ")] {
			t.Errorf("%s reads an inventory but is not in inventoryCommands", c.CommandPath())
		}
	}
}

// guideCILine returns the plan step of the CI example in docs/guide.md.
func guideCILine(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "--detailed-exitcode") && strings.HasPrefix(strings.TrimSpace(l), "- kmsctl") {
			return strings.TrimPrefix(strings.TrimSpace(l), "- ")
		}
	}
	t.Fatal("docs/guide.md has no CI plan step with --detailed-exitcode")
	return ""
}

// TestGuideCIExample runs the guide's CI plan step with sh, kmsctl being
// this test binary on the fake cluster: it passes with changes pending and
// writes the plan; a mistyped flag value or subcommand fails the step.
func TestGuideCIExample(t *testing.T) {
	line := guideCILine(t)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to string
		wantOK         bool
	}{
		{"as written", "", "", true},
		{"flag value typo", "--dry-run", "--dry-run --stage2 rollling", false},
		{"subcommand typo", "enable-vault", "enable-vualt", false},
		{"unknown flag", "--dry-run", "--dry-rnu", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			inv, _ := os.ReadFile("testdata/hsm-inventory.yaml")
			if err := os.WriteFile(filepath.Join(dir, "kms.yaml"), inv, 0o600); err != nil {
				t.Fatal(err)
			}
			script := "kmsctl() { \"$KMSCTL_BIN\" \"$@\"; }\nset -e\n" + strings.Replace(line, tt.from, tt.to, 1) + "\n"
			sh := exec.Command("sh", "-c", script)
			sh.Dir = dir
			sh.Env = append(os.Environ(), "KMSCTL_TEST_AS_KMSCTL=1", "KMSCTL_BIN="+bin)
			outb, err := sh.CombinedOutput()
			_, statErr := os.Stat(filepath.Join(dir, "plan.json"))
			if tt.wantOK && (err != nil || statErr != nil) {
				t.Errorf("the guide's step failed: %v (plan: %v)\n%s", err, statErr, outb)
			}
			if !tt.wantOK && err == nil {
				t.Errorf("the guide's step passed with a typo:\n%s", outb)
			}
		})
	}
}
