package main

import (
	"context"
	"strings"
	"testing"
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
