package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// Every problem that would make a later write fail is found before any
// node is changed, on whichever node it is (the last in the order too).
func TestPreflightFindsFileProblemsBeforeAnyChange(t *testing.T) {
	tests := []struct {
		name  string
		fault func(n *simNode)
		want  string
	}{
		{"symlinked config", func(n *simNode) {
			cfg, _ := n.node.File("/etc/minkms/config.yaml")
			n.node.SetFile("/srv/minkms.yaml", cfg)
			n.node.SetLink("/etc/minkms/config.yaml", "/srv/minkms.yaml")
		}, "/etc/minkms/config.yaml is a symbolic link (to /srv/minkms.yaml)"},
		{"full file system", func(n *simNode) { n.node.Mount("/", remotetest.Mount{Free: 100}) }, "/etc/minkms: no space left on device (needs"},
		{"read-only /etc", func(n *simNode) { n.node.Mount("/etc", remotetest.Mount{ReadOnly: true, Free: remotetest.DefaultFree}) }, "/etc/minkms: read-only file system"},
		{"key in a drop-in", func(n *simNode) {
			n.unitEnv = []string{EnvKey + "=hsm:aes256:BBBB"}
			n.dropIn = "/etc/systemd/system/minkms.service.d/key.conf"
		}, "/etc/systemd/system/minkms.service.d/key.conf:2: an Environment= line sets MINIO_KMS_HSM_KEY"},
		{"key in a second env file", func(n *simNode) {
			n.envFiles = []string{"/etc/default/minkms", "/etc/default/minkms-extra"}
			n.setData("/etc/default/minkms-extra", []byte("# extra\nMINIO_KMS_HSM_KEY=hsm:aes256:CCCC\n"))
		}, "/etc/default/minkms-extra:2: a second EnvironmentFile of minkms sets MINIO_KMS_HSM_KEY"},
		{"unit runs another config", func(n *simNode) { n.argv = "/usr/local/bin/minkms server --config /srv/kms.yaml" }, "the inventory's config /etc/minkms/config.yaml is not the daemon's: minkms runs with --config /srv/kms.yaml"},
	}
	for _, tt := range tests {
		for _, node := range []int{0, 1} { // kms-1 first in the order, kms-2 (the leader) last
			s := newSim(3)
			tt.fault(s.nodes[node])
			targets := s.targets()
			for _, tg := range targets {
				tg.ConfigSet, tg.EnvSet = true, true
			}
			opts, _ := testOpts("run-pf")
			_, err := Apply(context.Background(), targets, opts)
			var pe *PreflightError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.nodes[node].name) {
				t.Fatalf("%s on %s: err = %v", tt.name, s.nodes[node].name, err)
			}
			if strings.Contains(err.Error(), "hsm:aes256:") {
				t.Fatalf("%s: the key's value is in the error", tt.name)
			}
			if len(restarts(s)) != 0 {
				t.Fatalf("%s: a node was changed: %v", tt.name, s.log)
			}
		}
	}
}

// Paths the inventory leaves unset are taken from the unit.
func TestPreflightFollowsTheUnitWhenTheInventoryIsSilent(t *testing.T) {
	s := newSim(3)
	for _, n := range s.nodes {
		n.argv = "/usr/local/bin/minkms server --config /srv/kms.yaml"
		cfg, _ := n.node.File("/etc/minkms/config.yaml")
		n.node.SetFile("/srv/kms.yaml", cfg)
	}
	opts, _ := testOpts("run-u")
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, n := range s.nodes {
		if !strings.Contains(string(n.data("/srv/kms.yaml")), "vault:") || strings.Contains(string(n.data("/etc/minkms/config.yaml")), "vault:") {
			t.Fatalf("%s: the unit's config was not the one edited", n.name)
		}
	}
}

// A process that still holds the key after stage 2 fails the run.
func TestKeyLeftInProcessFailsTheRun(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-env")
	s.nodes[2].onRestart = func() {
		if !bytesHasKey(s.nodes[2].data("/etc/default/minkms")) { // stage 2 done on kms-3
			s.nodes[2].keyInProc = true
		}
	}
	_, err := Apply(context.Background(), s.targets(), opts)
	if err == nil || OutcomeOf(err).Kind == OutcomeSuccess {
		t.Fatal("a run whose node still has the key in its process reported success")
	}
	var he *HaltError
	if !errors.As(err, &he) || he.Node != "kms-3" || he.Phase != PhaseVerify || !strings.Contains(err.Error(), "still has MINIO_KMS_HSM_KEY") || OutcomeOf(err).Kind != OutcomeActionNeeded {
		t.Fatalf("err = %v", err)
	}
}

func bytesHasKey(b []byte) bool { return strings.Contains(string(b), EnvKey+"=") }

// Without admin.identity the operator's key may die with the local HSM
// key: refused before any change with the exact lines to add.
func TestNoAdminIdentityRefused(t *testing.T) {
	s := newSim(3)
	s.nodes[1].setData("/etc/minkms/config.yaml", []byte("version: v1\n"))
	opts, _ := testOpts("run-a")
	opts.APIIdentity = "h1:operator"
	_, err := Apply(context.Background(), s.targets(), opts)
	var pe *PreflightError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "node kms-2") || !strings.Contains(err.Error(), `identity: h1:operator`) {
		t.Fatalf("err = %v", err)
	}
	if len(restarts(s)) != 0 {
		t.Fatal("a node was changed")
	}
	keep := opts
	keep.Desired.KeepLocalHSM = true
	keep.Run = "run-a2"
	if _, err := Apply(context.Background(), s.targets(), keep); err != nil {
		t.Fatalf("--keep-local-hsm keeps the key, so the run may go on: %v", err)
	}
	// Pinned: the plan adds admin.identity and the run completes.
	s2 := newSim(3)
	s2.nodes[1].setData("/etc/minkms/config.yaml", []byte("version: v1\n"))
	pin, _ := testOpts("run-a3")
	pin.Desired.PinAdmin, pin.APIIdentity = "h1:operator", "h1:operator"
	if _, err := Apply(context.Background(), s2.targets(), pin); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	if id, _ := AdminIdentity(s2.nodes[1].data("/etc/minkms/config.yaml")); id != "h1:operator" || hasKey(s2.nodes[1]) {
		t.Fatalf("kms-2 admin.identity %q after the run", id)
	}
	if id, _ := AdminIdentity(s2.nodes[0].data("/etc/minkms/config.yaml")); id != "h1:abc" {
		t.Fatalf("kms-1's own admin.identity was changed to %q", id)
	}
}
