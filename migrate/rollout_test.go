package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

var fastGate = GateOptions{Settle: 0, Timeout: 30 * time.Millisecond, RestartTimeout: 20 * time.Millisecond, Poll: time.Millisecond}

func testDesired() Desired {
	return Desired{
		Vault: configedit.VaultSettings{
			Server:  "https://vault.example.net:8200",
			AppRole: &configedit.AppRole{ID: "role-id", Secret: "SECRET-ID-0000"},
			Transit: configedit.Transit{Key: "minkms-sealing-key"},
		},
		Prefer: configedit.BlockHashicorpVault,
		Stage2: Stage2Rolling,
	}
}

func testOpts(run string) (Options, *Recorder) {
	rec := &Recorder{}
	return Options{Run: run, Desired: testDesired(), HasAPIKey: true, Gate: fastGate, Events: rec, Parallel: 4}, rec
}

// restarts lists "node restart" lines of the sim's log, in order.
func restarts(s *sim) []string {
	var out []string
	for _, l := range s.log {
		if strings.HasSuffix(l, " restart") {
			out = append(out, strings.TrimSuffix(l, " restart"))
		}
	}
	return out
}

func TestApplyFullMigration(t *testing.T) {
	s := newSim(3)
	opts, rec := testOpts("run-1")
	sum, err := Apply(context.Background(), s.targets(), opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if sum.Result != "success" {
		t.Fatalf("result %q", sum.Result)
	}
	// Stage 1: followers first, leader (kms-2) last; then stage 2 the same
	// order; then the purge restarts one follower (kms-1).
	want := []string{"kms-1", "kms-3", "kms-2", "kms-1", "kms-3", "kms-2", "kms-1"}
	if got := restarts(s); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("restart order %v, want %v", got, want)
	}
	for _, n := range s.nodes {
		if bytes.Contains(n.data("/etc/default/minkms"), []byte("MINIO_KMS_HSM_KEY")) {
			t.Errorf("%s: env file still holds the key", n.name)
		}
		if !n.entries[s.names.vault] || !n.running {
			t.Errorf("%s: not running on Vault: %+v", n.name, n.entries)
		}
		for _, p := range n.node.Paths() {
			if strings.HasPrefix(p, DefaultBackupDir) && strings.Contains(string(n.data(p)), "hsm:aes256") {
				t.Errorf("%s: backup %s still holds the HSM key", n.name, p)
			}
		}
		if n.exists(LockPath("minkms")) {
			t.Errorf("%s: lock not released", n.name)
		}
		if n.info("/etc/default/minkms").Mode != 0o600 || n.info("/etc/minkms/config.yaml").GID != 999 {
			t.Errorf("%s: mode/owner not kept: %+v %+v", n.name, n.info("/etc/default/minkms"), n.info("/etc/minkms/config.yaml"))
		}
	}
	for _, e := range rec.Events() {
		b, _ := json.Marshal(e)
		if bytes.Contains(b, []byte("SECRET-ID-0000")) || bytes.Contains(b, []byte("hsm:aes256:AAAA")) {
			t.Fatalf("secret in event: %s", b)
		}
	}
	// A second run changes nothing and succeeds.
	s.log = nil
	opts2, _ := testOpts("run-2")
	if _, err := Apply(context.Background(), s.targets(), opts2); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if len(restarts(s)) != 0 {
		t.Fatalf("second run restarted nodes: %v", s.log)
	}
}

func TestApplyFailStartHaltsAndRestores(t *testing.T) {
	s := newSim(3)
	s.nodes[0].failStart = true // kms-1 is first in the order
	opts, _ := testOpts("run-f")
	_, err := Apply(context.Background(), s.targets(), opts)
	var he *HaltError
	if !errors.As(err, &he) || he.Node != "kms-1" || he.Phase != PhaseStage1 || !he.Restored {
		t.Fatalf("err = %v", err)
	}
	if !s.nodes[0].running {
		t.Fatal("kms-1 not healthy after the restore")
	}
	for _, n := range s.nodes[1:] {
		if strings.Contains(string(n.data("/etc/minkms/config.yaml")), "vault") {
			t.Errorf("%s was touched after the failing node", n.name)
		}
	}
	if string(s.nodes[0].data("/etc/minkms/config.yaml")) != simConfig {
		t.Errorf("kms-1 config not restored")
	}
	s.nodes[0].failStart = false
	opts2, _ := testOpts("run-f2")
	if _, err := Apply(context.Background(), s.targets(), opts2); err != nil {
		t.Fatalf("re-run after healing: %v", err)
	}
}

func TestApplyVaultDownHaltsWithRestoredNode(t *testing.T) {
	s := newSim(3)
	// Vault stops right after the first node (kms-1) moved to it.
	s.nodes[0].onRestart = func() { s.vault = false }
	opts, _ := testOpts("run-v")
	_, err := Apply(context.Background(), s.targets(), opts)
	var he *HaltError
	if !errors.As(err, &he) || !he.Restored || he.Node != "kms-3" {
		t.Fatalf("err = %v", err)
	}
	var ge *GateError
	if !errors.As(err, &ge) || ge.Probe != "cluster" {
		t.Fatalf("want a cluster gate error, got %v", err)
	}
	if string(s.nodes[2].data("/etc/minkms/config.yaml")) != simConfig || !s.nodes[2].running {
		t.Fatal("kms-3 not restored and running")
	}
	if strings.Contains(string(s.nodes[1].data("/etc/minkms/config.yaml")), "vault") {
		t.Fatal("kms-2 was touched after the halt")
	}
	s.vault = true
	s.nodes[0].onRestart = nil
	opts2, _ := testOpts("run-v2")
	if _, err := Apply(context.Background(), s.targets(), opts2); err != nil {
		t.Fatalf("re-run after healing: %v", err)
	}
}

func TestApplyInterruptFinishesNodeInFlight(t *testing.T) {
	for _, stage := range []int{1, 2} {
		s := newSim(3)
		ctx, cancel := context.WithCancel(context.Background())
		count := 0
		s.nodes[0].onRestart = func() {
			count++
			if count == stage {
				cancel()
			}
		}
		opts, _ := testOpts("run-i")
		_, err := Apply(ctx, s.targets(), opts)
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("stage %d: err = %v", stage, err)
		}
		for _, n := range s.nodes {
			if !n.running {
				t.Fatalf("stage %d: %s left down", stage, n.name)
			}
			if n.exists(LockPath("minkms")) {
				t.Fatalf("stage %d: %s lock left", stage, n.name)
			}
		}
		s.nodes[0].onRestart = nil
		opts2, _ := testOpts("run-i2")
		if _, err := Apply(context.Background(), s.targets(), opts2); err != nil {
			t.Fatalf("stage %d: resume: %v", stage, err)
		}
		for _, n := range s.nodes {
			for _, p := range n.node.Paths() {
				b := n.data(p)
				if strings.HasPrefix(p, DefaultBackupDir) && strings.Contains(string(b), "hsm:aes256") {
					t.Fatalf("stage %d: %s keeps a key backup of the interrupted run: %s", stage, n.name, p)
				}
			}
		}
	}
}

func TestApplyLocks(t *testing.T) {
	s := newSim(3)
	fresh, _ := json.Marshal(LockInfo{Run: "other", Operator: "ops-host", PID: 7, Refreshed: time.Now()})
	s.nodes[1].setData(LockPath("minkms"), fresh)
	opts, _ := testOpts("run-l")
	_, err := Apply(context.Background(), s.targets(), opts)
	var le *LockError
	if !errors.As(err, &le) || le.Stale || le.Owner.Run != "other" {
		t.Fatalf("err = %v", err)
	}
	if s.nodes[0].exists(LockPath("minkms")) {
		t.Fatal("lock of kms-1 not released after failing on kms-2")
	}
	opts.ForceUnlock = true
	if _, err := Apply(context.Background(), s.targets(), opts); !errors.As(err, &le) {
		t.Fatalf("a fresh lock must not be forced: %v", err)
	}
	stale, _ := json.Marshal(LockInfo{Run: "dead", Refreshed: time.Now().Add(-time.Hour)})
	s.nodes[1].setData(LockPath("minkms"), stale)
	opts.ForceUnlock = false
	if _, err := Apply(context.Background(), s.targets(), opts); !errors.As(err, &le) || !le.Stale {
		t.Fatalf("stale lock must be reported: %v", err)
	}
	opts.ForceUnlock = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("--force-unlock on a stale lock: %v", err)
	}
}

func TestApplySplitRuleCanaryRestoredThenTogether(t *testing.T) {
	s := newSim(3)
	s.rule = "primary"
	opts, _ := testOpts("run-s")
	_, err := Apply(context.Background(), s.targets(), opts)
	var he *HaltError
	if !errors.As(err, &he) || he.Phase != PhaseStage2 || !he.Restored || !strings.Contains(he.Explain, "--stage2 together") {
		t.Fatalf("err = %v", err)
	}
	for _, n := range s.nodes {
		if !bytes.Contains(n.data("/etc/default/minkms"), []byte("MINIO_KMS_HSM_KEY")) {
			t.Fatalf("%s lost its key", n.name)
		}
	}
	opts2, _ := testOpts("run-s2")
	opts2.Desired.Stage2 = Stage2Together
	sum, err := Apply(context.Background(), s.targets(), opts2)
	if err != nil {
		t.Fatalf("together: %v", err)
	}
	if sum.Downtime <= 0 {
		t.Errorf("downtime not measured: %v", sum.Downtime)
	}
}

func TestApplyNoAPIKeyUsesInventoryOrder(t *testing.T) {
	s := newSim(3)
	s.noKey = true
	opts, rec := testOpts("run-n")
	opts.HasAPIKey = false
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := strings.Join(restarts(s)[:3], ","); got != "kms-1,kms-2,kms-3" {
		t.Fatalf("order %s", got)
	}
	warned := false
	for _, e := range rec.Events() {
		warned = warned || (e.Result == ResultWarn && strings.Contains(e.Message, "canary"))
	}
	if !warned {
		t.Fatal("no warning about relying on the canary")
	}
}

func TestApplyStalePlanRefused(t *testing.T) {
	s := newSim(3)
	facts, err := GatherFacts(context.Background(), s.targets(), 2)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanFromFacts(facts, s.targets(), testDesired())
	if err != nil {
		t.Fatal(err)
	}
	s.nodes[2].setData("/etc/minkms/config.yaml", []byte(simConfig+"# edited by hand\n"))
	opts, _ := testOpts("run-p")
	opts.Saved = plan
	_, err = Apply(context.Background(), s.targets(), opts)
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "kms-3") {
		t.Fatalf("err = %v", err)
	}
	if len(restarts(s)) != 0 {
		t.Fatal("a stale plan changed something")
	}
	plan2, _ := PlanFromFacts(mustFacts(t, s), s.targets(), testDesired())
	opts.Saved = plan2
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("fresh plan: %v", err)
	}
}

func mustFacts(t *testing.T, s *sim) []Facts {
	t.Helper()
	f, err := GatherFacts(context.Background(), s.targets(), 2)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestApplyRestartHangIsBounded(t *testing.T) {
	s := newSim(3)
	// a daemon that ignores SIGTERM: the restart never returns
	s.nodes[0].node.Fail(remotetest.Fault{Op: remotetest.OpRun, Match: restartLine, Block: true})
	opts, _ := testOpts("run-h")
	_, err := Apply(context.Background(), s.targets(), opts)
	if !errors.Is(err, systemd.ErrRestartTimeout) {
		t.Fatalf("err = %v", err)
	}
	var re *RestoreError
	if !errors.As(err, &re) {
		t.Fatalf("a hung restore needs operator action: %v", err)
	}
	if string(s.nodes[0].data("/etc/minkms/config.yaml")) != simConfig {
		t.Fatal("the original config must be back even when the restart hangs")
	}
}

func TestRollbackAfterStage1(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-r")
	opts.Desired.KeepLocalHSM = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, n := range s.nodes {
		if !strings.Contains(string(n.data("/etc/minkms/config.yaml")), "vault") {
			t.Fatalf("%s: no Vault block after stage 1", n.name)
		}
	}
	ropts, _ := testOpts("run-r")
	if _, err := Rollback(context.Background(), s.targets(), ropts); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	for _, n := range s.nodes {
		if string(n.data("/etc/minkms/config.yaml")) != simConfig || !n.running {
			t.Fatalf("%s: not rolled back", n.name)
		}
	}
	if _, err := Rollback(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("second rollback must be a no-op: %v", err)
	}
}

func TestRollbackRefusesNodeWithoutHSM(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-x")
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	_, err := Rollback(context.Background(), s.targets(), opts)
	if err == nil || !strings.Contains(err.Error(), "could not unseal") {
		t.Fatalf("err = %v", err)
	}
	for _, n := range s.nodes {
		if !strings.Contains(string(n.data("/etc/minkms/config.yaml")), "vault") {
			t.Fatalf("%s: rollback changed a node it refused", n.name)
		}
	}
}

func TestApplyNeverWritesTheSecretWorldReadable(t *testing.T) {
	s := newSim(3)
	for _, n := range s.nodes {
		n.node.SetFile("/etc/minkms/config.yaml", remotetest.File{Data: n.data("/etc/minkms/config.yaml"), Mode: 0o644, GID: 999})
	}
	facts := mustFacts(t, s)
	plan, err := PlanFromFacts(facts, s.targets(), testDesired())
	if err != nil {
		t.Fatal(err)
	}
	if w := plan.Nodes[0].Stage1.Warnings; len(w) == 0 || !strings.Contains(w[len(w)-1], "readable by everyone") {
		t.Fatalf("plan must warn about a world-readable config: %v", w)
	}
	opts, _ := testOpts("run-m")
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	for _, n := range s.nodes {
		if info := n.info("/etc/minkms/config.yaml"); info.Mode != 0o640 || info.GID != 999 {
			t.Errorf("%s: config written as %04o gid %d, want 0640 gid 999", n.name, info.Mode, info.GID)
		}
	}
}

// A unit that systemd gave up on ("failed") fails its gate at once instead
// of after the gate timeout, and the restore still restarts it (reset-failed
// clears the start limit).
func TestGateFailsFastOnFailedUnit(t *testing.T) {
	s := newSim(3)
	s.nodes[0].failStart = true
	opts, _ := testOpts("run-ff")
	opts.Gate.Timeout = time.Minute
	start := time.Now()
	_, err := Apply(context.Background(), s.targets(), opts)
	var he *HaltError
	if !errors.As(err, &he) || !he.Restored {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the gate waited %s for a failed unit", d)
	}
}

// TestSplitRuleAdviceSurvivesDeadlineMidProbe is the CI failure of
// 2026-11-27: the gate's deadline fell inside a `systemctl show`, and that
// probe's "context deadline exceeded" replaced the cluster failure that had
// kept the gate waiting, so the halt gave the wrong advice.
func TestSplitRuleAdviceSurvivesDeadlineMidProbe(t *testing.T) {
	s := newSim(3)
	s.rule = "primary"
	for _, n := range s.nodes {
		shows, blocked := 0, false
		n.onShow = func(ctx context.Context) error {
			s.mu.Lock()
			keyGone := !bytes.Contains(n.data("/etc/default/minkms"), []byte("MINIO_KMS_HSM_KEY"))
			s.mu.Unlock()
			if !keyGone || blocked {
				return nil
			}
			if shows++; shows < 2 {
				return nil
			}
			// the second probe after the key is gone outlives the gate
			blocked = true
			<-ctx.Done()
			return ctx.Err()
		}
	}
	opts, _ := testOpts("run-sd")
	_, err := Apply(context.Background(), s.targets(), opts)
	var he *HaltError
	if !errors.As(err, &he) || he.Phase != PhaseStage2 || !he.Restored {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(he.Explain, "--stage2 together") {
		t.Fatalf("advice = %q (cause %v)", he.Explain, he.Cause)
	}
	var ge *GateError
	if !errors.As(err, &ge) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("gate error = %v, want the probe that kept the gate waiting", ge)
	}
}
