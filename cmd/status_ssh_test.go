package cmd

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/kmsctl/kmsctl/remote"
)

// TestSSHReportClassified: status shows the kind of an SSH failure, not a
// bare "unreachable", and does not repeat the node name of its row.
func TestSSHReportClassified(t *testing.T) {
	err := &remote.DialError{Node: "kms-1", Addr: "10.0.0.1:22", Err: syscall.ECONNREFUSED}
	rep := sshReport("kms-1", err)
	if rep.Kind != string(remote.DialRefused) || strings.Contains(rep.Error, "kms-1") || !strings.Contains(rep.Error, "Fix:") {
		t.Errorf("report %+v", rep)
	}
	hke := &remote.HostKeyError{Node: "kms-1", Host: "10.0.0.1:22", File: "/kh", Kind: remote.HostKeyUnknown}
	if rep := sshReport("kms-1", hke); rep.Kind != "host key unknown" || !strings.Contains(rep.Error, "--accept-new-host-keys") {
		t.Errorf("report %+v", rep)
	}
	if got := withoutNode("kms-1", errors.New("node kms-1: read /x: node kms-1: sudo refused")); got != "read /x: sudo refused" {
		t.Errorf("withoutNode = %q", got)
	}
}
