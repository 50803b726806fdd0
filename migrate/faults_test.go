package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// variants are the product behaviours the sim plays; kmsctl must be right
// under each.
var variants = []struct {
	name      string
	names     simNames
	unsealAll bool
}{
	{"product-names/unseal-any", productNames, false},
	{"product-names/unseal-all", productNames, true},
	{"lab-names/unseal-any", labNames, false},
	{"lab-names/unseal-all", labNames, true},
}

func newVariantSim(n int, names simNames, all bool) *sim {
	s := newSim(n)
	s.unsealAll = all
	s.setNames(names)
	return s
}

func hasKey(n *simNode) bool {
	return bytes.Contains(n.data("/etc/default/minkms"), []byte("MINIO_KMS_HSM_KEY"))
}

func TestApplyEveryVariantMigrates(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := newVariantSim(3, v.names, v.unsealAll)
			opts, rec := testOpts("run-1")
			if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for _, n := range s.nodes {
				if hasKey(n) || !n.entries[v.names.vault] || !n.running {
					t.Errorf("%s not on Vault: %+v", n.name, n.entries)
				}
			}
			// The run log names the HSMs as the product reports them.
			logged := false
			for _, e := range rec.Events() {
				logged = logged || (e.Step == "hsm" && strings.Contains(e.Message, v.names.local) && strings.Contains(e.Message, v.names.vault))
			}
			if !logged {
				t.Error("run log does not record the HSM names seen")
			}
		})
	}
}

// A node whose Vault block cannot work: under unseal-any it starts on its
// local key alone, and only the missing sealed entry tells.
func TestApplyBrokenVaultBlockHaltsInStage1UnderEveryVariant(t *testing.T) {
	for _, v := range variants {
		for _, fault := range []string{"bad-secret", "vault-cut-off"} {
			t.Run(v.name+"/"+fault, func(t *testing.T) {
				s := newVariantSim(3, v.names, v.unsealAll)
				if fault == "bad-secret" {
					s.nodes[2].badVault = true // kms-3, second in the order
				} else {
					s.nodes[0].onRestart = func() { s.vault = false }
				}
				opts, _ := testOpts("run-b")
				_, err := Apply(context.Background(), s.targets(), opts)
				var he *HaltError
				if !errors.As(err, &he) || he.Phase != PhaseStage1 || he.Node != "kms-3" || !he.Restored || he.State != StateOriginal {
					t.Fatalf("err = %v", err)
				}
				if OutcomeOf(err).Kind != OutcomeHalted {
					t.Fatalf("outcome %v", OutcomeOf(err))
				}
				if !v.unsealAll {
					want := "kms-3 started on " + v.names.local + " only: its Vault HSM has no sealed root key entry"
					if !strings.Contains(he.Explain, want) || !strings.Contains(he.Explain, "Vault said:") {
						t.Fatalf("explain %q, want %q", he.Explain, want)
					}
				}
				if fault == "bad-secret" && !strings.Contains(he.Journal, "approle login failed") {
					t.Errorf("journal not in the halt: %q", he.Journal)
				}
				for _, n := range s.nodes {
					if !hasKey(n) {
						t.Fatalf("%s lost its local key: stage 2 started", n.name)
					}
				}
				if string(s.nodes[2].data("/etc/minkms/config.yaml")) != simConfig || !s.nodes[2].running {
					t.Fatal("kms-3 not restored and running")
				}
			})
		}
	}
}

// The restore ladder: each rung is tried, newest first, until one starts.
func TestRestoreLadder(t *testing.T) {
	tests := []struct {
		name      string
		unsealAll bool
		failAll   bool
		state     string
		kind      OutcomeKind
	}{
		// Vault stops after the canary's gate: kms-3 cannot start without
		// its local key. Unseal-any: the stage-1 state (both HSMs) starts.
		{"stage-1 state", false, false, StateStage1, OutcomeHalted},
		// Unseal-all: the stage-1 state needs Vault too; the original files start.
		{"original files", true, false, StateOriginal, OutcomeHalted},
		// Nothing starts the node: operator action needed.
		{"nothing starts", true, true, "", OutcomeActionNeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newVariantSim(3, productNames, tt.unsealAll)
			count := 0
			s.nodes[0].onRestart = func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if count++; count == 2 { // kms-1's stage-2 restart: the canary
					s.vault = false
					s.nodes[2].failAll = tt.failAll
				}
			}
			opts, _ := testOpts("run-l")
			_, err := Apply(context.Background(), s.targets(), opts)
			o := OutcomeOf(err)
			if o.Kind != tt.kind || o.State != tt.state || o.Node != "kms-3" {
				t.Fatalf("outcome %+v, err = %v", o, err)
			}
			if tt.kind == OutcomeActionNeeded {
				var re *RestoreError
				if !errors.As(err, &re) || len(re.Tried) != 2 || !strings.Contains(re.Tried[0], StateStage1) || !strings.Contains(re.Tried[1], StateOriginal) {
					t.Fatalf("tried: %v", err)
				}
				return
			}
			if !s.nodes[2].running || !hasKey(s.nodes[2]) {
				t.Fatal("kms-3 not running with its local key")
			}
			if tt.state == StateOriginal && s.nodes[2].hasVaultBlock() {
				t.Fatal("kms-3 not on its original files")
			}
		})
	}
}

// A node that crashes after its settle period is caught before stage 2.
func TestWatchCatchesLateCrashBeforeStage2(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := newVariantSim(3, v.names, v.unsealAll)
			s.nodes[0].crashIn = 4 // kms-1, first in the order: passes its gate, then crashes
			opts, _ := testOpts("run-w")
			_, err := Apply(context.Background(), s.targets(), opts)
			var re *RestartedError
			if !errors.As(err, &re) || re.Node != "kms-1" {
				t.Fatalf("err = %v", err)
			}
			for _, n := range s.nodes {
				if !hasKey(n) {
					t.Fatalf("%s lost its key: stage 2 started after a crash", n.name)
				}
			}
			if s.nodes[0].hasVaultBlock() {
				t.Fatal("kms-1 not walked back to its original files")
			}
			if OutcomeOf(err).Kind != OutcomeHalted {
				t.Fatalf("outcome %v", OutcomeOf(err))
			}
		})
	}
}

// A refused write changed nothing: no restore, a one-line cause.
func TestFailedWriteChangesNothing(t *testing.T) {
	for _, msg := range []string{"cat: write error: No space left on device", "kmsctl-files: /etc/minkms/config.yaml is a symbolic link; refusing to replace it"} {
		s := newSim(3)
		// the write fails after the preflight passed (the disk filled, the
		// file was swapped for a link), as the real transport reports it
		s.nodes[2].node.Fail(remotetest.Fault{Op: remotetest.OpWriteFileAtomic, Match: "/etc/minkms/config.yaml",
			Err: errors.New("write /etc/minkms/config.yaml: exit status 1: " + msg)})
		opts, _ := testOpts("run-e")
		_, err := Apply(context.Background(), s.targets(), opts)
		var he *HaltError
		if !errors.As(err, &he) || !he.Unchanged || he.Node != "kms-3" || OutcomeOf(err).Kind != OutcomeUnchanged {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "halted, nothing changed on this node") || strings.Contains(err.Error(), "copy them back") {
			t.Fatalf("message %q", err)
		}
		if c := he.Cause.Error(); strings.Contains(c, "\n") || !strings.HasPrefix(c, "kms-3: /etc/minkms") {
			t.Fatalf("cause %q", c)
		}
		for _, r := range restarts(s) {
			if r == "kms-3" {
				t.Fatal("kms-3 restarted although nothing on it changed")
			}
		}
	}
}

// A lock left by a dead run of this host is taken over at once.
func TestDeadRunLockTakenOver(t *testing.T) {
	s := newSim(3)
	dead, _ := json.Marshal(LockInfo{Run: "dead", Operator: "ops-host", PID: 4242, Refreshed: time.Now()})
	s.nodes[1].setData(LockPath("minkms"), dead)
	opts, _ := testOpts("run-d")
	opts.Lock = LockInfo{Operator: "ops-host", PID: 1}
	opts.LockOwnerDead = func(o LockInfo) bool { return o.Operator == "ops-host" && o.PID == 4242 }
	rec := &Recorder{}
	opts.Events = rec
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("dead run's lock not taken over: %v", err)
	}
	reported := false
	for _, e := range rec.Events() {
		reported = reported || (e.Step == "lock" && e.Node == "kms-2" && strings.Contains(e.Message, "run dead"))
	}
	if !reported {
		t.Error("the take-over of a dead run's lock is not reported")
	}
	opts.LockOwnerDead = func(LockInfo) bool { return false }
	s.nodes[1].setData(LockPath("minkms"), dead)
	var le *LockError
	if _, err := Apply(context.Background(), s.targets(), opts); !errors.As(err, &le) || le.Stale {
		t.Fatalf("a live run's fresh lock must hold: %v", err)
	}
}

// fakeClock drives lock refreshes without waiting.
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	tick chan time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.tick <- now
}

// A rollback longer than the stale-lock age keeps its lock, and Started
// survives every refresh.
func TestRollbackKeepsItsLockPastStaleAge(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-k")
	opts.Desired.KeepLocalHSM = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC), tick: make(chan time.Time)}
	ropts, _ := testOpts("run-k")
	ropts.Now = clock.Now
	ropts.Tick = func(time.Duration) (<-chan time.Time, func()) { return clock.tick, func() {} }
	var checked error
	s.nodes[0].onRestart = func() {
		for i := 0; i < 6; i++ { // 6 x 20 s > 90 s
			clock.advance(LockRefresh)
		}
		clock.advance(0) // the ticker has taken the last refresh when this returns
		for _, n := range s.nodes {
			info, err := ReadLock(context.Background(), n.node, LockPath("minkms"))
			switch {
			case err != nil:
				checked = err
			case !info.Started.Equal(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)):
				checked = errors.New("Started changed on refresh: " + info.Started.String())
			case clock.Now().Sub(info.Refreshed) > LockStaleAfter:
				checked = errors.New("lock looks stale during the rollback")
			}
		}
		other := LockInfo{Run: "other"}
		if _, err := AcquireLock(context.Background(), s.nodes[1].node, LockPath("minkms"), other, true, clock.Now(), nil); err == nil {
			checked = errors.New("another run took the lock with --force-unlock")
		}
	}
	if _, err := Rollback(context.Background(), s.targets(), ropts); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if checked != nil {
		t.Fatal(checked)
	}
}

// --stage2 together: a failure walks every written node back together.
func TestTogetherRestoreWalksAllNodesBack(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-t")
	opts.Desired.Stage2 = Stage2Together
	// Vault stops working for every node right after the leader (kms-2,
	// last in stage 1) sealed its entry: no node can start on Vault alone.
	s.nodes[1].onRestart = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, n := range s.nodes {
			n.badVault = true
		}
	}
	_, err := Apply(context.Background(), s.targets(), opts)
	o := OutcomeOf(err)
	if o.Kind != OutcomeHalted || o.State != StateStage1 || o.Phase != PhaseStage2 {
		t.Fatalf("outcome %+v: %v", o, err)
	}
	for _, n := range s.nodes {
		if !hasKey(n) || !n.running {
			t.Fatalf("%s not back on its stage-1 state", n.name)
		}
	}
}
