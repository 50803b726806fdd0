package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote"
)

// PurgePlan is the purge step as a plan shows it: which local HSMs lose
// their sealed root key entries and on which nodes, or why it is skipped.
type PurgePlan struct {
	HSMs    []string `json:"hsms,omitempty"`
	Nodes   []string `json:"nodes,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
}

// Pending reports whether an apply would remove an entry.
func (p PurgePlan) Pending() bool { return p.Skipped == "" && len(p.Nodes) > 0 }

// PlanPurge works out the purge step from the facts (read-only): the local
// HSMs by difference (IdentifyHSMs, else an earlier run's record, else the
// entries of HSMs no longer configured) and the nodes holding their entries.
func PlanPurge(ctx context.Context, facts []Facts, targets []*Target, d Desired, hasAPIKey bool) PurgePlan {
	if skip := PurgeSkip(d, hasAPIKey); skip != "" {
		return PurgePlan{Skipped: skip}
	}
	r := newRunner(targets, Options{HasAPIKey: true})
	var views []PurgeView
	for _, f := range facts {
		t := r.byName[f.Name]
		if f.Cluster == nil {
			continue
		}
		self, ok := findNode(f.Cluster, t.Addrs)
		if !ok {
			continue
		}
		v, err := r.hsmView(ctx, f)
		names := HSMNames{}
		if err == nil {
			if m, err := IdentifyHSMs([]HSMView{v}); err == nil {
				names = m[f.Name]
			}
		}
		views = append(views, r.purgeView(ctx, t, f.Cluster, self, &names))
	}
	set := purgeSet(views)
	return PurgePlan{HSMs: set, Nodes: holders(views, set)}
}

// purgeView builds a node's PurgeView; the run record is read only when the
// node's local HSMs are not known from this run.
func (r *runner) purgeView(ctx context.Context, t *Target, cs *kmsapi.ClusterStatus, self kmsapi.NodeStatus, names *HSMNames) PurgeView {
	var rec *HSMNames
	if names == nil || len(names.Local) == 0 {
		rec = LatestHSMRecord(ctx, t.Node, t.BackupDir)
	}
	return PurgeView{Node: t.Name, Self: self, View: cs, Local: PurgeTargets(self, names, rec)}
}

// purgeViews reads every node's cluster view now.
func (r *runner) purgeViews(ctx context.Context) ([]PurgeView, error) {
	views := make([]PurgeView, len(r.targets))
	names := make([]string, len(r.targets))
	for i, t := range r.targets {
		names[i] = t.Name
	}
	err := r.forAll(ctx, names, func(t *Target) error {
		cs, err := t.API.ClusterStatus(ctx)
		if err != nil {
			return fmt.Errorf("node %s: cluster status: %w", t.Name, err)
		}
		self, ok := findNode(cs, t.Addrs)
		if !ok {
			return fmt.Errorf("node %s: not found in its own cluster view", t.Name)
		}
		views[slices.Index(names, t.Name)] = r.purgeView(ctx, t, cs, self, r.hsmNames(t.Name))
		return nil
	})
	return views, err
}

// purgeOnly is the purge of a run that changed nothing before it (a re-run
// on a migrated cluster, `kmsctl hsm purge-local`): a refusal is a
// preflight failure.
func (r *runner) purgeOnly(ctx context.Context) error {
	err := r.purge(ctx)
	if pr := (*purgeRefused)(nil); errors.As(err, &pr) {
		return &PreflightError{Err: err}
	}
	return err
}

// purgeAfterStages is the purge at the end of a migration that changed
// nodes: a refusal leaves the migration done and the entry in place.
func (r *runner) purgeAfterStages(ctx context.Context) error {
	err := r.purge(ctx)
	if pr := (*purgeRefused)(nil); errors.As(err, &pr) {
		return &PurgeError{Node: "cluster", Cause: err, Explain: "fix the cause and run `kmsctl hsm purge-local` (or the same enable-vault command) again"}
	}
	return err
}

// purge removes the local HSM's sealed entries (RemoveHSM), checks that no
// node lists them, restarts one follower and checks that it unseals via
// Vault and that the entry stays gone.
func (r *runner) purge(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if skip := PurgeSkip(r.opts.Desired, r.opts.HasAPIKey); skip != "" {
		r.sum.LocalEntry = "kept (" + skip + ")"
		if skip == skipNoAPIKey {
			r.sum.Warnings = append(r.sum.Warnings, "the local HSM's sealed root key entry was not removed ("+skip+"): an old copy of the local key still unseals a copy of a volume; run `kmsctl hsm purge-local` with an API key")
		}
		r.emit(Event{Phase: PhasePurge, Result: ResultSkip, Message: "the local HSM's sealed root key entry is kept on every node: " + skip})
		return nil
	}
	views, err := r.purgeViews(ctx)
	if err != nil {
		return &purgeRefused{err}
	}
	set := purgeSet(views)
	if len(holders(views, set)) == 0 {
		r.sum.LocalEntry = "already removed"
		r.emit(Event{Phase: PhasePurge, Result: ResultSkip, Message: "no node holds a sealed entry of the local HSM (" + orNone(set) + "): nothing to purge"})
		return nil
	}
	if err := CheckPurgeable(views, set, len(r.targets)); err != nil {
		return &purgeRefused{err}
	}
	r.learnLocal(set)
	if err := r.removeEntries(ctx, views, set); err != nil {
		return err
	}
	if err := r.purgeRestart(ctx, views, set); err != nil {
		return err
	}
	r.recordPurge(ctx, set)
	r.sum.LocalEntry = "removed (" + strings.Join(set, ", ") + ")"
	return nil
}

// learnLocal adds the purge's HSMs to every node's local names, so the
// gates after the purge check that none of them is configured again.
func (r *runner) learnLocal(set []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.targets {
		n, ok := r.hsms[t.Name]
		if !ok {
			n = &HSMNames{}
			r.hsms[t.Name] = n
		}
		n.Local = union(n.Local, set)
	}
}

// removeEntries sends RemoveHSM once per HSM (a cluster-wide write) through
// the leader, then waits until no node lists the entries.
func (r *runner) removeEntries(ctx context.Context, views []PurgeView, set []string) error {
	admin, via := r.hsmAdmin(views)
	if admin == nil {
		return &purgeRefused{fmt.Errorf("node %s: its API client cannot send RemoveHSM", via)}
	}
	for _, name := range set {
		if len(holders(views, []string{name})) == 0 {
			continue
		}
		r.emit(Event{Phase: PhasePurge, Node: via, Step: "remove-hsm", Result: ResultStart, Message: "RemoveHSM " + name + " (irreversible: the local key can no longer unseal any node)"})
		if err := admin.RemoveHSM(ctx, name); err != nil && !errors.Is(err, kmsapi.ErrHSMNoEntry) {
			return r.removeFailed(ctx, views, set, err)
		}
	}
	left, err := r.waitRemoved(ctx, set)
	if err != nil || len(left) > 0 {
		if err == nil {
			err = fmt.Errorf("still listed in hsm by %s after RemoveHSM", strings.Join(left, ", "))
		}
		return &PurgeError{Node: firstOr(left, "cluster"), Cause: err, Removed: true, Explain: "run `kmsctl hsm purge-local` again once every node is up; `kmsctl status` shows which nodes still hold the entry"}
	}
	r.emit(Event{Phase: PhasePurge, Step: "verify", Result: ResultOK, Message: "no node lists " + strings.Join(set, ", ") + " in hsm"})
	return nil
}

// hsmAdmin picks the leader's API (any node forwards, the leader applies).
func (r *runner) hsmAdmin(views []PurgeView) (HSMAdmin, string) {
	name := views[0].Node
	for _, v := range views {
		if v.Self.Role == kmsapi.RoleLeader {
			name = v.Node
		}
	}
	admin, _ := r.byName[name].API.(HSMAdmin)
	return admin, name
}

// removeFailed reports a refused or failed RemoveHSM, saying whether any
// node lost its entry all the same.
func (r *runner) removeFailed(ctx context.Context, before []PurgeView, set []string, err error) error {
	pe := &PurgeError{Node: "cluster", Cause: err, Explain: "nothing to repair: every node still unseals with Vault; fix the cause (every node up, the API key's identity SysAdmin) and run `kmsctl hsm purge-local`"}
	if errors.Is(err, kmsapi.ErrHSMNotAllNodes) {
		pe.Explain = "a node is down or unreachable for the cluster: RemoveHSM needs every node up; " + pe.Explain
	}
	if now, rerr := r.purgeViews(ctx); rerr == nil {
		if after := holders(now, set); len(after) < len(holders(before, set)) {
			pe.Removed, pe.Node = true, firstOr(after, "cluster")
		}
	}
	return pe
}

// waitRemoved polls every node until none lists the entries (the write is
// replicated) or the gate timeout passes; it returns the nodes still listing them.
func (r *runner) waitRemoved(ctx context.Context, set []string) ([]string, error) {
	return r.pollViews(ctx, func(views []PurgeView) []string { return holders(views, set) })
}

// pollViews reads every node's view until pending (the nodes not yet as
// wanted) is empty or the gate timeout passes; it returns the last pending.
func (r *runner) pollViews(ctx context.Context, pending func([]PurgeView) []string) ([]string, error) {
	deadline := r.opts.Now().Add(r.opts.Gate.Timeout)
	for {
		views, err := r.purgeViews(ctx)
		left := pending(views)
		if err == nil && len(left) == 0 {
			return nil, nil
		}
		if r.opts.Now().After(deadline) {
			return left, err
		}
		select {
		case <-ctx.Done():
			return left, ctx.Err()
		case <-r.opts.After(r.opts.Gate.Poll):
		}
	}
}

// purgeRestart restarts one follower: it must unseal through Vault (the
// only entry left) and must not bring the local entry back.
func (r *runner) purgeRestart(ctx context.Context, views []PurgeView, set []string) error {
	t := r.byName[pickFollower(views)]
	r.emit(Event{Phase: PhasePurge, Node: t.Name, Step: "restart", Result: ResultStart, Message: "proving the node unseals through Vault alone"})
	err := r.restartAndGate(ctx, PhasePurge, t, Want{VaultEntry: true, NoLocalHSM: true, ClusterSize: len(r.targets)})
	if ls := (*LocalStillError)(nil); errors.As(err, &ls) {
		return &PurgeError{Node: t.Name, Cause: err, Removed: true, Explain: "after its restart the node has the local HSM configured again: something still gives it the key (`kmsctl status` shows the env file and the unit's environment); remove it and run `kmsctl hsm purge-local`"}
	}
	if err != nil {
		return &HaltError{Node: t.Name, Phase: PhasePurge, Cause: err, Journal: systemd.Journal(ctx, t.Node, t.Unit, 20),
			Explain: "the local entry is gone, so the node can only unseal through Vault: check the node's Vault access (its journal is below) and restart it; the other nodes were not restarted"}
	}
	now, err := r.purgeViews(ctx)
	if err != nil {
		return &PurgeError{Node: t.Name, Cause: err, Removed: true}
	}
	if back := holders(now, set); len(back) > 0 {
		r.emit(Event{Phase: PhasePurge, Node: t.Name, Step: "recreated", Result: ResultFail, Message: "the local entry came back at start-up"})
		return &PurgeError{Node: back[0], Cause: fmt.Errorf("%s lists %s in hsm again after its restart", strings.Join(back, ", "), strings.Join(set, ", ")), Removed: true, Recreated: true,
			Explain: "this key manager re-seals the removed entry at start-up, so a purge cannot hold on it; kmsctl does not repeat RemoveHSM: protect every copy of the old key and of the volumes as if the key were live, and report it to the vendor"}
	}
	r.emit(Event{Phase: PhasePurge, Node: t.Name, Step: "verify", Result: ResultOK, Message: "restarted, unsealed through Vault, no local entry"})
	return nil
}

// pickFollower returns the first follower (the leader when there is none).
func pickFollower(views []PurgeView) string {
	for _, v := range views {
		if v.Self.Role == kmsapi.RoleFollower {
			return v.Node
		}
	}
	return views[0].Node
}

// recordPurge notes the purge in this run's manifest on every node, for
// `hsm rollback` and `kmsctl status`.
func (r *runner) recordPurge(ctx context.Context, set []string) {
	for _, t := range r.targets {
		if err := RecordPurge(ctx, t.Node, t.BackupDir, r.opts.Run, set); err != nil {
			r.emit(Event{Phase: PhasePurge, Node: t.Name, Result: ResultWarn, Error: err.Error()})
		}
		r.forgetManifest(t.Name)
	}
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// Purge is `kmsctl hsm purge-local`: the purge step alone, for a cluster
// migrated earlier (or by hand). It locks the nodes, checks their health
// and refuses (a preflight failure, nothing changed) unless every node runs
// on Vault alone and is up.
func Purge(ctx context.Context, targets []*Target, opts Options) (*Summary, error) {
	r := newRunner(targets, opts)
	r.start = r.opts.Now()
	r.emit(Event{Type: "run", Phase: PhasePurge, Result: ResultStart, Message: fmt.Sprintf("%d nodes", len(targets))})
	err := r.withLocks(ctx, r.purgeLocked)
	return r.finish(err), err
}

func (r *runner) purgeLocked(ctx context.Context) error {
	if err := CheckNodes(ctx, r.targets, r.opts.Parallel); err != nil {
		return &PreflightError{Err: err}
	}
	facts, err := GatherFacts(ctx, r.targets, r.opts.Parallel)
	if err != nil {
		return &PreflightError{Err: err}
	}
	if err := CheckHealth(facts, r.targets, r.opts.HasAPIKey); err != nil {
		return &PreflightError{Err: fmt.Errorf("purge refused, nothing was removed: the cluster is not healthy (RemoveHSM needs every node up): %w", err)}
	}
	if !r.opts.HasAPIKey {
		return &PreflightError{Err: errors.New("purge refused: " + skipNoAPIKey)}
	}
	if err := r.baseline(ctx, facts); err != nil {
		return &PreflightError{Err: err}
	}
	return r.purgeOnly(ctx)
}

// PurgeRecord returns the newest run that recorded a purge on the node and
// the HSMs it removed ("" when none did or the backups cannot be read).
func PurgeRecord(ctx context.Context, n remote.Node, base string) (run string, hsms []string) {
	runs, err := ListRuns(ctx, n, base)
	if err != nil {
		return "", nil
	}
	slices.Sort(runs)
	for _, id := range slices.Backward(runs) {
		if m, err := ReadManifest(ctx, n, base, id); err == nil && len(m.Purged) > 0 {
			return id, m.Purged
		}
	}
	return "", nil
}
