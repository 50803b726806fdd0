package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/configedit"
)

// simKey is the sim's Vault transit key: versions, and a Vault that
// refuses to decrypt below min_decryption_version (as real Vault does).
type simKey struct {
	s           *sim
	latest, min int
	setCalls    []int
	failSet     map[int]error // SetMinDecryptionVersion(v) fails with this
	failRotate  error
}

func (k *simKey) Versions(context.Context) (KeyVersions, error) {
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	return KeyVersions{Latest: k.latest, MinDecryption: k.min}, nil
}

func (k *simKey) Rotate(context.Context) error {
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	if k.failRotate != nil {
		return k.failRotate
	}
	k.latest++
	k.s.record("rotate %d", k.latest)
	return nil
}

func (k *simKey) SetMinDecryptionVersion(_ context.Context, v int) error {
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	k.setCalls = append(k.setCalls, v)
	if err := k.failSet[v]; err != nil {
		return err
	}
	k.min = v
	k.s.record("min_decryption_version %d", v)
	return nil
}

// sealed records the key version a new Vault entry is sealed with; a node
// with staleReseal keeps its old entry on AddHSM (the case the retire
// step's restarts exist to catch).
func (n *simNode) sealed(h string) {
	k := n.sim.key
	if k == nil || h != n.sim.names.vault {
		return
	}
	if n.versions == nil {
		n.versions = map[string]int{}
	}
	if _, had := n.versions[h]; had && n.staleReseal {
		return
	}
	n.versions[h] = k.latest
}

// versionOK: Vault decrypts the node's entry (its version is not retired).
func (n *simNode) versionOK(h string) bool {
	k := n.sim.key
	return k == nil || h != n.sim.names.vault || n.versions[h] >= k.min
}

// migratedSim is a 3-node sim migrated to Vault and purged, with the
// transit key at version 1.
func migratedSim(t *testing.T) *sim {
	t.Helper()
	s := newSim(3)
	s.key = &simKey{s: s, latest: 1, min: 1}
	opts, _ := testOpts("run-migrate")
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("migration: %v", err)
	}
	s.log = nil
	return s
}

func rotateSpec(s *sim, rotate, retire bool) RotateSpec {
	return RotateSpec{Key: s.key, KeyPath: "transit/keys/minkms-sealing-key", Rotate: rotate, Retire: retire}
}

func runRotate(s *sim, run string, rotate, retire bool) (*Summary, error) {
	opts, _ := testOpts(run)
	return Rotate(context.Background(), s.targets(), opts, rotateSpec(s, rotate, retire))
}

func TestRotateResealRetire(t *testing.T) {
	s := migratedSim(t)
	opts, rec := testOpts("run-rotate")
	sum, err := Rotate(context.Background(), s.targets(), opts, rotateSpec(s, true, true))
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if s.key.latest != 2 || s.key.min != 2 {
		t.Fatalf("key latest %d min %d, want 2 2", s.key.latest, s.key.min)
	}
	for _, n := range s.nodes {
		if !n.running || n.versions[s.names.vault] != 2 {
			t.Errorf("%s running=%v version=%d", n.name, n.running, n.versions[s.names.vault])
		}
	}
	// rotate, re-seal, retire, then followers first and the leader (kms-2) last
	want := []string{"rotate 2", "AddHSM " + s.names.vault, "min_decryption_version 2", "kms-1 restart", "kms-3 restart", "kms-2 restart"}
	if strings.Join(s.log, ",") != strings.Join(want, ",") {
		t.Errorf("log %v\nwant %v", s.log, want)
	}
	if sum.KeyVersion != 2 || sum.MinDecryptionVersion != 2 || sum.Result != "success" {
		t.Errorf("summary %+v", sum)
	}
	if !slices.ContainsFunc(rec.Events(), func(e Event) bool {
		return e.Phase == PhaseRetire && e.Node == "kms-1" && e.Step == "gate" && e.Result == ResultOK
	}) {
		t.Error("no passed retire gate for kms-1")
	}
}

func TestRotateWithoutRetireKeepsOldVersions(t *testing.T) {
	s := migratedSim(t)
	s.key.latest = 3 // rotated by the operator
	opts, _ := testOpts("run-reseal")
	if _, err := Rotate(context.Background(), s.targets(), opts, rotateSpec(s, false, false)); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if s.key.min != 1 || len(s.key.setCalls) != 0 {
		t.Errorf("min %d calls %v: nothing may be retired without --retire-old-versions", s.key.min, s.key.setCalls)
	}
	if len(restarts(s)) != 0 {
		t.Errorf("restarts %v without retire", restarts(s))
	}
	for _, n := range s.nodes {
		if n.versions[s.names.vault] != 3 {
			t.Errorf("%s sealed with %d, want 3", n.name, n.versions[s.names.vault])
		}
	}
}

func TestRetireNothingToDo(t *testing.T) {
	s := migratedSim(t)
	sum, err := runRotate(s, "run-noop", false, true)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if len(s.key.setCalls) != 0 || len(restarts(s)) != 0 || sum.MinDecryptionVersion != 0 {
		t.Errorf("set %v restarts %v summary %+v: version 1 is the only one, nothing to retire", s.key.setCalls, restarts(s), sum)
	}
}

// A node whose entry was not re-sealed fails its restart once the old
// version is retired: min_decryption_version goes back before the node is
// restored, and no later node is restarted.
func TestRetirePutsBackAndRestoresOnFailedNode(t *testing.T) {
	s := migratedSim(t)
	s.nodes[2].staleReseal = true // kms-3, restarted second
	_, err := runRotate(s, "run-stale", true, true)
	var he *HaltError
	if !errors.As(err, &he) || !he.Restored || he.Node != "kms-3" || he.Phase != PhaseRetire {
		t.Fatalf("err = %v, want a restored halt at kms-3", err)
	}
	if OutcomeOf(err).Kind != OutcomeHalted {
		t.Errorf("outcome %v", OutcomeOf(err).Kind)
	}
	if s.key.min != 1 || !slices.Equal(s.key.setCalls, []int{2, 1}) {
		t.Errorf("min %d calls %v: want raised to 2 and put back to 1", s.key.min, s.key.setCalls)
	}
	if got := restarts(s); strings.Join(got, ",") != "kms-1,kms-3,kms-3" {
		t.Errorf("restarts %v: want kms-1, kms-3, its restore, and not the leader", got)
	}
	i, j := slices.Index(s.log, "min_decryption_version 1"), slices.Index(s.log, "kms-3 restart")
	if i < j || !slices.Contains(s.log[i:], "kms-3 restart") {
		t.Errorf("the put-back must come before the restore: %v", s.log)
	}
	for _, n := range s.nodes {
		if !n.running {
			t.Errorf("%s not running", n.name)
		}
	}
}

// A node cut off from Vault is not restarted: the old versions are put
// back and the node keeps running.
func TestRetireStopsBeforeNodeCutOffFromVault(t *testing.T) {
	s := migratedSim(t)
	spec := rotateSpec(s, true, true)
	spec.NodeVault = func(_ context.Context, t *Target) error {
		if t.Name == "kms-2" {
			return fmt.Errorf("node %s cannot reach Vault: i/o timeout", t.Name)
		}
		return nil
	}
	opts, _ := testOpts("run-cutoff")
	_, err := Rotate(context.Background(), s.targets(), opts, spec)
	var he *HaltError
	if !errors.As(err, &he) || !he.Unchanged || he.Node != "kms-2" || !strings.Contains(err.Error(), "put back to 1") {
		t.Fatalf("err = %v", err)
	}
	if s.key.min != 1 {
		t.Errorf("min_decryption_version %d, want put back to 1", s.key.min)
	}
	if got := restarts(s); strings.Join(got, ",") != "kms-1,kms-3" {
		t.Errorf("restarts %v: the cut-off leader must not be restarted", got)
	}
	for _, n := range s.nodes {
		if !n.running {
			t.Errorf("%s not running", n.name)
		}
	}
}

// A failed put-back is the operator's: exit 7 with the command to run.
func TestRetirePutBackFailureNeedsOperator(t *testing.T) {
	s := migratedSim(t)
	s.nodes[0].staleReseal = true
	s.key.failSet = map[int]error{1: errors.New("permission denied")}
	_, err := runRotate(s, "run-putback", true, true)
	if OutcomeOf(err).Kind != OutcomeActionNeeded || !strings.Contains(err.Error(), "min_decryption_version=1") {
		t.Fatalf("err = %v (%v)", err, OutcomeOf(err).Kind)
	}
}

func TestRotateRefusals(t *testing.T) {
	t.Run("not migrated", func(t *testing.T) {
		s := newSim(3)
		s.key = &simKey{s: s, latest: 1, min: 1}
		_, err := runRotate(s, "run-x", true, true)
		if OutcomeOf(err).Kind != OutcomePreflight || !strings.Contains(err.Error(), "enable-vault") || s.key.latest != 1 {
			t.Fatalf("err = %v, latest %d", err, s.key.latest)
		}
	})
	t.Run("no API key", func(t *testing.T) {
		s := migratedSim(t)
		opts, _ := testOpts("run-y")
		opts.HasAPIKey = false
		_, err := Rotate(context.Background(), s.targets(), opts, rotateSpec(s, true, true))
		if OutcomeOf(err).Kind != OutcomePreflight || s.key.latest != 1 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("node down", func(t *testing.T) {
		s := migratedSim(t)
		s.nodes[1].running = false
		_, err := runRotate(s, "run-z", true, true)
		if OutcomeOf(err).Kind != OutcomePreflight || s.key.latest != 1 || len(s.key.setCalls) != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("preflight hook", func(t *testing.T) {
		s := migratedSim(t)
		opts, _ := testOpts("run-w")
		opts.Preflight = func(context.Context) ([]string, error) {
			return nil, errors.New("the rotation identity lacks update on transit/keys/minkms-sealing-key/config")
		}
		_, err := Rotate(context.Background(), s.targets(), opts, rotateSpec(s, true, true))
		if OutcomeOf(err).Kind != OutcomePreflight || s.key.latest != 1 {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPlanRotationChangesNothing(t *testing.T) {
	s := migratedSim(t)
	opts, _ := testOpts("run-plan")
	p, err := PlanRotation(context.Background(), s.targets(), opts, rotateSpec(s, true, true))
	if err != nil {
		t.Fatalf("PlanRotation: %v", err)
	}
	if p.HSM != s.names.vault || p.SealVersion != 2 || p.RetireBelow != 2 || strings.Join(p.Order, ",") != "kms-1,kms-3,kms-2" {
		t.Errorf("plan %+v", p)
	}
	if len(s.log) != 0 || s.key.latest != 1 {
		t.Errorf("the plan changed something: %v", s.log)
	}
	if len(p.Steps()) != 4 {
		t.Errorf("steps %v", p.Steps())
	}
}

func TestRotateInterruptPutsBack(t *testing.T) {
	s := migratedSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	s.nodes[0].onRestart = cancel
	opts, _ := testOpts("run-int")
	_, err := Rotate(ctx, s.targets(), opts, rotateSpec(s, true, true))
	if !errors.Is(err, ErrInterrupted) || s.key.min != 1 {
		t.Fatalf("err = %v, min %d", err, s.key.min)
	}
	if got := restarts(s); strings.Join(got, ",") != "kms-1" {
		t.Errorf("restarts %v", got)
	}
}

// The OpenBao block is an external HSM like Vault's: a full migration
// writes it, the HSMs are told apart by difference, a second run does
// nothing, and a rotation re-seals it.
func TestOpenBaoBlockMigratesAndRotates(t *testing.T) {
	s := newSim(3)
	s.names.vault = "hsm:openssf:openbao"
	s.key = &simKey{s: s, latest: 1, min: 1}
	opts, _ := testOpts("run-bao")
	opts.Desired.Prefer = configedit.BlockOpenBao
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, n := range s.nodes {
		cfg := string(n.data("/etc/minkms/config.yaml"))
		if !strings.Contains(cfg, "openssf:\n    openbao:") || strings.Contains(cfg, "hashicorp") || !n.entries["hsm:openssf:openbao"] || hasKey(n) {
			t.Fatalf("%s: config\n%s\nentries %v", n.name, cfg, n.entries)
		}
	}
	s.log = nil
	opts.Run = "run-bao-2"
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil || len(restarts(s)) != 0 {
		t.Fatalf("second run: %v, restarts %v", err, restarts(s))
	}
	if _, err := runRotate(s, "run-bao-rotate", true, true); err != nil || s.key.min != 2 {
		t.Fatalf("rotate: %v, min %d", err, s.key.min)
	}
}

// With the local HSM still configured (--keep-local-hsm), a restart
// unseals with it whatever Vault refuses: the retire step is refused up
// front, the re-seal alone is allowed.
func TestRetireRefusedWhileLocalHSMConfigured(t *testing.T) {
	s := newSim(3)
	s.key = &simKey{s: s, latest: 1, min: 1}
	opts, _ := testOpts("run-keep")
	opts.Desired.KeepLocalHSM = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatalf("migration: %v", err)
	}
	_, err := runRotate(s, "run-keep-rotate", true, true)
	if OutcomeOf(err).Kind != OutcomePreflight || !strings.Contains(err.Error(), "still has the local HSM configured") || s.key.latest != 1 {
		t.Fatalf("err = %v, latest %d", err, s.key.latest)
	}
	if _, err := runRotate(s, "run-keep-reseal", true, false); err != nil || s.key.latest != 2 {
		t.Fatalf("re-seal alone: %v, latest %d", err, s.key.latest)
	}
}
