package migrate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
)

// The sim's AddHSM and RemoveHSM play the product's documented semantics:
// cluster-wide writes refused unless every node is up; RemoveHSM deletes the
// entry everywhere (refused when a node would be left with no entry of a
// working configured HSM); AddHSM seals for a configured HSM that lacks one.

func (a simAPI) RemoveHSM(_ context.Context, name string) error {
	s := a.n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.allUp(); err != nil {
		return err
	}
	held := false
	for _, n := range s.nodes {
		held = held || n.entries[name]
		left := false
		for _, h := range n.active {
			left = left || (h != name && n.entries[h] && n.works(h))
		}
		if !left {
			return simHSMErr(http.StatusConflict, kmsapi.ErrHSMConflict, "cannot remove HSM %s: no other working HSM has a sealed entry on %s", name, n.name)
		}
	}
	if !held {
		return simHSMErr(http.StatusNotFound, kmsapi.ErrHSMNoEntry, "no sealed root encryption key entry for HSM %s", name)
	}
	for _, n := range s.nodes {
		delete(n.entries, name)
	}
	s.record("RemoveHSM %s", name)
	return nil
}

func (a simAPI) AddHSM(_ context.Context, name string, overwrite bool) error {
	s := a.n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.allUp(); err != nil {
		return err
	}
	for _, n := range s.nodes {
		if !slices.Contains(n.active, name) {
			return simHSMErr(http.StatusBadRequest, kmsapi.ErrHSMNotConfigured, "HSM %s is not configured on %s", name, n.name)
		}
		if n.entries[name] && !overwrite {
			return simHSMErr(http.StatusConflict, kmsapi.ErrHSMConflict, "HSM %s already has an entry on %s", name, n.name)
		}
	}
	for _, n := range s.nodes {
		n.entries[name] = true
		n.sealed(name)
	}
	s.record("AddHSM %s", name)
	return nil
}

func (s *sim) allUp() error {
	for _, n := range s.nodes {
		if !n.running || !s.quorum(n) {
			return simHSMErr(http.StatusServiceUnavailable, kmsapi.ErrHSMNotAllNodes, "cluster write refused: %s is down", n.name)
		}
	}
	return nil
}

func simHSMErr(status int, kind error, format string, args ...any) error {
	return &kmsapi.HSMError{Kind: kind, Err: &kmsapi.HTTPError{Status: status, Message: fmt.Sprintf(format, args...)}}
}

func localEntries(s *sim) []string {
	var out []string
	for _, n := range s.nodes {
		if n.entries[s.names.local] {
			out = append(out, n.name)
		}
	}
	return out
}

func TestPurgeRemovesLocalEntryUnderEveryVariant(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := newVariantSim(3, v.names, v.unsealAll)
			opts, rec := testOpts("run-1")
			sum, err := Apply(context.Background(), s.targets(), opts)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if held := localEntries(s); len(held) > 0 {
				t.Fatalf("local entry still on %v", held)
			}
			if sum.LocalEntry != "removed ("+v.names.local+")" {
				t.Errorf("summary local_entry = %q", sum.LocalEntry)
			}
			// one follower restarted after the RemoveHSM, and came back on Vault
			i := slices.Index(s.log, "RemoveHSM "+v.names.local)
			if i < 0 || !slices.ContainsFunc(s.log[i:], func(l string) bool { return strings.HasSuffix(l, " restart") }) {
				t.Errorf("no restart after RemoveHSM: %v", s.log)
			}
			for _, n := range s.nodes {
				if !n.running || !n.entries[v.names.vault] {
					t.Errorf("%s not running on Vault", n.name)
				}
			}
			if !slices.ContainsFunc(rec.Events(), func(e Event) bool { return e.Phase == PhasePurge && e.Step == "verify" && e.Node != "" }) {
				t.Error("no purge verification event for the restarted node")
			}
		})
	}
}

func TestPurgeSkipped(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*Desired)
		want string
	}{
		{"keep-local-entry", func(d *Desired) { d.KeepLocalEntry = true }, "kept (--keep-local-entry)"},
		{"keep-local-hsm", func(d *Desired) { d.KeepLocalHSM, d.KeepLocalEntry = true, false }, "kept (" + skipKeepLocalHSM + ")"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(3)
			opts, _ := testOpts("run-1")
			tt.set(&opts.Desired)
			sum, err := Apply(context.Background(), s.targets(), opts)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if len(localEntries(s)) != 3 || sum.LocalEntry != tt.want {
				t.Fatalf("entries on %v, local_entry %q; want all kept and %q", localEntries(s), sum.LocalEntry, tt.want)
			}
			if slices.ContainsFunc(s.log, func(l string) bool { return strings.HasPrefix(l, "RemoveHSM") }) {
				t.Fatal("RemoveHSM sent")
			}
		})
	}
}

// A re-run on a migrated but unpurged cluster does only the purge (no file
// edit, one restart); a re-run on a purged cluster does nothing at all.
func TestPurgeRerun(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-1")
	opts.Desired.KeepLocalEntry = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	s.log = nil
	opts, _ = testOpts("run-2")
	sum, err := Apply(context.Background(), s.targets(), opts)
	if err != nil || len(localEntries(s)) > 0 {
		t.Fatalf("re-run: %v, local entries on %v", err, localEntries(s))
	}
	if got := restarts(s); len(got) != 1 || sum.LocalEntry != "removed (hsm:minio:soft)" {
		t.Fatalf("re-run restarted %v, local_entry %q; want one follower and removed", got, sum.LocalEntry)
	}
	s.log = nil
	opts, _ = testOpts("run-3")
	sum, err = Apply(context.Background(), s.targets(), opts)
	if err != nil || len(s.log) > 0 || sum.LocalEntry != "already removed" {
		t.Fatalf("re-run on a purged cluster: %v, log %v, local_entry %q", err, s.log, sum.LocalEntry)
	}
}

// The stand-alone purge (hsm purge-local) with a node down is refused
// before anything: a preflight failure, every entry still there.
func TestPurgeRefusedWithNodeDown(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-1")
	opts.Desired.KeepLocalEntry = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	s.nodes[2].running = false
	opts, _ = testOpts("run-2")
	_, err := Purge(context.Background(), s.targets(), opts)
	var pe *PreflightError
	if !errors.As(err, &pe) || OutcomeOf(err).Kind != OutcomePreflight {
		t.Fatalf("Purge with a node down = %v, want a preflight failure", err)
	}
	if len(localEntries(s)) != 3 {
		t.Fatalf("entries removed although refused: %v", localEntries(s))
	}
}

// purge-local on a cluster that still has the local key configured (never
// migrated, or stage 2 skipped) is refused before anything changes.
func TestPurgeRefusedWhileLocalConfigured(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-1")
	opts.Desired.KeepLocalHSM = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	s.log = nil
	opts, _ = testOpts("run-2")
	_, err := Purge(context.Background(), s.targets(), opts)
	if OutcomeOf(err).Kind != OutcomePreflight || !strings.Contains(err.Error(), "still has the local HSM configured") {
		t.Fatalf("Purge = %v, want a preflight refusal naming the configured local HSM", err)
	}
	if len(localEntries(s)) != 3 || len(restarts(s)) > 0 {
		t.Fatalf("a refused purge changed the cluster: entries %v, restarts %v", localEntries(s), restarts(s))
	}
}

// A key manager that re-seals the removed entry at start-up (the stand-in's
// restart_recreates_removed, here even without the key configured) is
// detected after the one follower restart and reported, without a loop.
func TestPurgeDetectsRecreatedEntry(t *testing.T) {
	s := newSim(3)
	for _, n := range s.nodes {
		n.onRestart = func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if slices.Contains(s.log, "RemoveHSM "+s.names.local) {
				n.entries[s.names.local] = true
			}
		}
	}
	opts, _ := testOpts("run-1")
	sum, err := Apply(context.Background(), s.targets(), opts)
	var pg *PurgeError
	if !errors.As(err, &pg) || !pg.Recreated || OutcomeOf(err).Kind != OutcomeNotPurged || sum.Result != string(OutcomeNotPurged) {
		t.Fatalf("Apply = %v (result %s), want a recreated PurgeError", err, sum.Result)
	}
	if !strings.Contains(err.Error(), "came back at start-up") {
		t.Errorf("message does not say so: %v", err)
	}
	removes := 0
	for _, l := range s.log {
		if strings.HasPrefix(l, "RemoveHSM") {
			removes++
		}
	}
	if removes != 1 {
		t.Fatalf("RemoveHSM sent %d times, want once (no loop)", removes)
	}
}

// RemoveHSM refused by the key manager (here: the stand-in's 503 when a
// node drops out right before it) ends "migrated-not-purged", nothing lost.
func TestPurgeRemoveRefused(t *testing.T) {
	s := newSim(3)
	opts, _ := testOpts("run-1")
	opts.Desired.KeepLocalEntry = true
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	ts := s.targets()
	for _, tg := range ts {
		tg.API = refusingAdmin{tg.API.(simAPI)}
	}
	opts, _ = testOpts("run-2")
	_, err := Apply(context.Background(), ts, opts)
	var pg *PurgeError
	if !errors.As(err, &pg) || pg.Removed || !errors.Is(err, kmsapi.ErrHSMNotAllNodes) || OutcomeOf(err).Kind != OutcomeNotPurged {
		t.Fatalf("Apply = %v, want an unremoved PurgeError wrapping ErrHSMNotAllNodes", err)
	}
	if len(localEntries(s)) != 3 {
		t.Fatalf("entries changed: %v", localEntries(s))
	}
}

type refusingAdmin struct{ simAPI }

func (refusingAdmin) RemoveHSM(context.Context, string) error {
	return simHSMErr(http.StatusServiceUnavailable, kmsapi.ErrHSMNotAllNodes, "cluster write refused: not every node is up")
}

func TestCheckPurgeable(t *testing.T) {
	up := func(self kmsapi.NodeStatus) *kmsapi.ClusterStatus {
		self.Role, self.LeaderID, self.ID = kmsapi.RoleLeader, 1, 1
		return &kmsapi.ClusterStatus{Up: map[uint32]kmsapi.NodeStatus{1: self}}
	}
	set := []string{"local"}
	tests := []struct {
		name string
		self kmsapi.NodeStatus
		down bool
		want string
	}{
		{"ok", kmsapi.NodeStatus{HSM: []string{"local", "vault"}, HSMActive: []string{"vault"}}, false, ""},
		{"node down", kmsapi.NodeStatus{HSM: []string{"local", "vault"}, HSMActive: []string{"vault"}}, true, "needs every node up"},
		{"still configured", kmsapi.NodeStatus{HSM: []string{"local", "vault"}, HSMActive: []string{"local", "vault"}}, false, "still has the local HSM configured"},
		{"no other entry", kmsapi.NodeStatus{HSM: []string{"local"}, HSMActive: []string{"vault"}}, false, "unable to unseal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := up(tt.self)
			if tt.down {
				cs.Down = map[uint32]string{2: "10.0.0.12:7373"}
			}
			err := CheckPurgeable([]PurgeView{{Node: "kms-1", Self: cs.Up[1], View: cs}}, set, 1)
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckPurgeable = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPurgeTargetsByDifference(t *testing.T) {
	self := kmsapi.NodeStatus{HSM: []string{"hsm:minio:soft", "hsm:hashicorp:vault", "old"}, HSMActive: []string{"hsm:hashicorp:vault"}}
	if got := PurgeTargets(self, &HSMNames{Local: []string{"hsm:minio:soft"}}, nil); !slices.Equal(got, []string{"hsm:minio:soft"}) {
		t.Errorf("from the run: %v", got)
	}
	if got := PurgeTargets(self, &HSMNames{}, &HSMNames{Local: []string{"hsm:minio:soft"}}); !slices.Equal(got, []string{"hsm:minio:soft"}) {
		t.Errorf("from the record: %v", got)
	}
	if got := PurgeTargets(self, nil, nil); !slices.Equal(got, []string{"hsm:minio:soft", "old"}) {
		t.Errorf("by difference: %v", got)
	}
}

// migratedAndPurged runs a full migration (with the purge) on a new sim.
func migratedAndPurged(t *testing.T, keepBackups bool) (*sim, string) {
	t.Helper()
	s := newSim(3)
	opts, _ := testOpts("run-1")
	opts.KeepBackups = keepBackups
	if _, err := Apply(context.Background(), s.targets(), opts); err != nil {
		t.Fatal(err)
	}
	if len(localEntries(s)) > 0 {
		t.Fatal("not purged")
	}
	return s, "run-1"
}

// After a purge, a rollback to the original files (local HSM alone) is
// refused with the reason unless the key is supplied; nothing changes.
func TestRollbackAfterPurgeRefused(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-backups=%v", keep), func(t *testing.T) {
			s, run := migratedAndPurged(t, keep)
			s.log = nil
			opts, _ := testOpts(run)
			_, err := Rollback(context.Background(), s.targets(), opts)
			if !errors.Is(err, ErrPurged) || OutcomeOf(err).Kind != OutcomePreflight {
				t.Fatalf("Rollback = %v, want a preflight refusal wrapping ErrPurged", err)
			}
			if len(restarts(s)) > 0 {
				t.Fatalf("a refused rollback restarted %v", restarts(s))
			}
		})
	}
}

// With the key supplied again, every node first gets it back beside its
// Vault block (so each restart unseals through Vault), AddHSM re-seals the
// local entry, and only then are the files rolled back: at no step is a
// node without a sealed entry for a configured HSM (every restart starts).
func TestRollbackAfterPurgeWithSuppliedKey(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-backups=%v", keep), func(t *testing.T) {
			s, run := migratedAndPurged(t, keep)
			s.log = nil
			var failed []string
			for _, n := range s.nodes {
				n.onRestart = func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					if !n.running {
						failed = append(failed, n.name)
					}
					// like the stand-in's default: a start does not re-seal
					// an entry removed with RemoveHSM (AddHSM does)
					if !slices.Contains(s.log, "AddHSM "+s.names.local) {
						delete(n.entries, s.names.local)
					}
				}
			}
			opts, rec := testOpts(run)
			opts.LocalKey = "hsm:aes256:AAAA"
			if _, err := Rollback(context.Background(), s.targets(), opts); err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			if len(failed) > 0 {
				t.Fatalf("restarts that did not start: %v", failed)
			}
			i := slices.Index(s.log, "AddHSM "+s.names.local)
			if i < 0 || len(restarts(&sim{log: s.log[:i]})) != 3 || len(restarts(&sim{log: s.log[i:]})) != 3 ||
				slices.ContainsFunc(s.log[:i], func(l string) bool { return strings.HasSuffix(l, "/etc/minkms/config.yaml") }) {
				t.Fatalf("want 3 key restarts, AddHSM, 3 rollback restarts: %v", s.log)
			}
			for _, n := range s.nodes {
				if !n.running || !hasKey(n) || n.hasVaultBlock() || !n.entries[s.names.local] {
					t.Errorf("%s not back on its local HSM: running %v key %v vault %v entries %v", n.name, n.running, hasKey(n), n.hasVaultBlock(), n.entries)
				}
			}
			for _, e := range rec.Events() {
				if strings.Contains(e.Message+e.Error, "hsm:aes256:AAAA") {
					t.Fatalf("the supplied key appears in an event: %+v", e)
				}
			}
		})
	}
}

func TestRollbackAfterPurgeRefusesAnotherKey(t *testing.T) {
	s, run := migratedAndPurged(t, true)
	s.log = nil
	opts, _ := testOpts(run)
	opts.LocalKey = "hsm:aes256:BBBB"
	_, err := Rollback(context.Background(), s.targets(), opts)
	if OutcomeOf(err).Kind != OutcomePreflight || !strings.Contains(err.Error(), "differs") || strings.Contains(err.Error(), "BBBB") {
		t.Fatalf("Rollback with another key = %v, want a preflight refusal that does not show the key", err)
	}
	if len(restarts(s)) > 0 {
		t.Fatal("restarted after refusing")
	}
}
