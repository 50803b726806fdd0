package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestStatusLimit: --limit probes only the named nodes; an unknown name is
// a usage error before any connection.
func TestStatusLimit(t *testing.T) {
	s := newScenario()
	code, out, stderr := s.run(t, "--limit", "kms-3,kms-1", "-o", "json")
	if code != ExitOK && code != ExitUnhealthy {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep StatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Nodes) != 2 || rep.Nodes[0].Name != "kms-1" || rep.Nodes[1].Name != "kms-3" || len(s.dialer.Targets()) != 2 {
		t.Errorf("--limit kms-3,kms-1: %d nodes, %d dials", len(rep.Nodes), len(s.dialer.Targets()))
	}
	s = newScenario()
	code, _, stderr = s.run(t, "--limit", "kms-9")
	if code != ExitUsage || len(s.dialer.Targets()) != 0 || !strings.Contains(stderr, "nodes: kms-1, kms-2, kms-3") {
		t.Errorf("unknown --limit name: exit %d, %d dials, %q", code, len(s.dialer.Targets()), stderr)
	}
}

// TestVaultCheckLimit: vault check --limit refuses an unknown node before
// connecting.
func TestVaultCheckLimit(t *testing.T) {
	s := newScenario()
	s.env["TEST_APPROLE_SECRET"] = testSecret
	f, _, errOut := testFactory(s.dialer, s.apis, s.env)
	code := Main(context.Background(), f, []string{"vault", "check", "-i", "testdata/hsm-inventory.yaml", "--limit", "kms-1,nope"})
	if code != ExitUsage || len(s.dialer.Targets()) != 0 || !strings.Contains(errOut.String(), "--limit nope") {
		t.Errorf("exit %d, %d dials, %q", code, len(s.dialer.Targets()), errOut)
	}
}
