package main

import (
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

func TestSplitExec(t *testing.T) {
	cases := []struct {
		in   []string
		node string
		argv string
		ok   bool
	}{
		{[]string{"kms-1", "--", "ls", "-l"}, "kms-1", "ls -l", true},
		{[]string{"kms-1", "ls"}, "kms-1", "ls", true},
		{[]string{"kms-1", "--", "echo", "--", "x"}, "kms-1", "echo -- x", true},
		{[]string{"kms-1", "--"}, "", "", false},
		{[]string{"kms-1"}, "", "", false},
		{nil, "", "", false},
	}
	for _, c := range cases {
		node, argv, err := splitExec(c.in)
		if (err == nil) != c.ok || node != c.node || strings.Join(argv, " ") != c.argv {
			t.Errorf("splitExec(%q) = %q, %q, %v", c.in, node, argv, err)
		}
	}
}

// TestFaultUsageErrors: argument errors are reported before any lab is touched
// (the DIR used here holds no lab).
func TestFaultUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		run  func(context.Context, []string) error
		args []string
		want string
	}{
		{cmdFault, []string{"--dir", dir}, "usage"},
		{cmdFault, []string{"--dir", dir, "kms-1"}, "usage"},
		{cmdHeal, []string{"--dir", dir}, "usage"},
		{cmdFault, []string{"--dir", dir, "kms-1", "cutoff"}, "no lab state"},
		{cmdExec, []string{"--dir", dir, "kms-1"}, "usage"},
		{cmdStatus, []string{"--dir", dir}, "no lab state"},
	}
	for _, c := range cases {
		err := c.run(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err=%v, want %q", c.args, err, c.want)
		}
	}
}

// TestVariantFlags: flags beat the environment, which beats the defaults.
func TestVariantFlags(t *testing.T) {
	parse := func(env map[string]string, args ...string) standin.Variant {
		t.Helper()
		var v standin.Variant
		fs := flag.NewFlagSet("up", flag.ContinueOnError)
		variantFlags(fs, &v, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := parse(nil); got != standin.Defaults {
		t.Errorf("no flags = %+v, want the defaults %+v", got, standin.Defaults)
	}
	env := map[string]string{"LAB_HSM_NAMES": "product", "LAB_UNSEAL": "any", "LAB_RESTART_RECREATES_REMOVED": "true"}
	got := parse(env, "--unseal", "all", "--admin-identity", "derived")
	want := standin.Variant{HSMNames: "product", Unseal: "all", AdminIdentity: "derived", RestartRecreatesRemoved: true}
	if got != want {
		t.Errorf("env + flags = %+v, want %+v", got, want)
	}
	if err := parse(nil, "--hsm-names", "vault").Check(); err == nil {
		t.Error("--hsm-names vault accepted")
	}
}
