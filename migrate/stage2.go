package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// splitAdvice explains a canary that unsealed but could not rejoin: its peers
// reject its inter-node key, which the key manager derives from one HSM.
const splitAdvice = "the node unsealed via Vault but its peers did not accept it back (the inter-node key is derived from one HSM, and the others still use the local one); every node was left on its local HSM. Re-run with --stage2 together to switch all nodes at once (a short, reported outage)"

// stage2 removes the local HSM key, canary first.
func (r *runner) stage2(ctx context.Context, plan *Plan) error {
	r.emit(Event{Phase: PhaseStage2, Type: "phase", Result: ResultStart, Message: string(r.opts.Desired.Stage2)})
	pending := r.stage2Pending(plan)
	if len(pending) == 0 {
		return nil
	}
	if r.opts.Desired.Stage2 == Stage2Together {
		return r.stage2Together(ctx, pending)
	}
	for i, np := range pending {
		if err := interrupted(ctx); err != nil {
			return err
		}
		if i == 0 {
			r.emit(Event{Phase: PhaseStage2, Node: np.Name, Step: "canary", Result: ResultStart, Message: "first node without its local HSM key"})
		}
		if err := r.change(ctx, r.byName[np.Name], PhaseStage2, r.stage2Change(np)); err != nil {
			r.nodeSummary(np.Name).Stage2 = "restored"
			return err
		}
		r.nodeSummary(np.Name).Stage2 = "changed"
	}
	return nil
}

// stage2Pending lists the nodes whose env file still holds the key.
func (r *runner) stage2Pending(plan *Plan) []NodePlan {
	var out []NodePlan
	for _, np := range plan.Nodes {
		if np.Stage2.Changed {
			out = append(out, np)
			continue
		}
		r.nodeSummary(np.Name).Stage2 = "already done"
		r.emit(Event{Phase: PhaseStage2, Node: np.Name, Step: "skip", Result: ResultSkip, Message: "no local HSM key in the env file"})
	}
	return out
}

func (r *runner) stage2Change(np NodePlan) change {
	t, f := r.byName[np.Name], r.facts[np.Name]
	return change{
		path: t.EnvPath, old: f.Files.Env, new: np.NewEnv(), info: f.EnvInfo, holdsKey: true,
		want:    Want{VaultEntry: true, NoLocalHSM: true, ClusterSize: len(r.targets)},
		explain: stage2Explain,
	}
}

// stage2Explain turns a failed stage-2 gate into operator advice.
func stage2Explain(err error) string {
	var ge *GateError
	if errors.As(err, &ge) && (ge.Probe == "cluster" || ge.Probe == "ready") {
		return splitAdvice
	}
	return "the node could not run without its local HSM key; it is back on it. Check the Vault HSM entries with `kmsctl status`"
}

// stage2Together edits every node, restarts them all at once and waits for
// the whole cluster; the outage is measured and reported.
func (r *runner) stage2Together(ctx context.Context, pending []NodePlan) error {
	if err := interrupted(ctx); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	changes := make(map[string]change, len(pending))
	backups := make(map[string]string, len(pending))
	for _, np := range pending {
		t, c := r.byName[np.Name], r.stage2Change(np)
		if err := r.checkUnchanged(ctx, t, c); err != nil {
			return &HaltError{Node: t.Name, Phase: PhaseStage2, Cause: err, Restored: true, Explain: "nothing was written yet"}
		}
		b, err := Backup(ctx, t.Node, t.BackupDir, r.opts.Run, c.path, c.old, c.info, true, r.opts.Now())
		if err != nil {
			return &HaltError{Node: t.Name, Phase: PhaseStage2, Cause: err, Restored: true, Explain: "nothing was written yet"}
		}
		changes[np.Name], backups[np.Name] = c, b.Backup
	}
	var written []string
	for _, np := range pending {
		t, c := r.byName[np.Name], changes[np.Name]
		if err := t.Node.WriteFileAtomic(ctx, c.path, c.new, writeOpts(c.info)); err != nil {
			return r.restoreAll(ctx, written, changes, backups, fmt.Errorf("node %s: write %s: %w", t.Name, c.path, err))
		}
		written = append(written, np.Name)
		r.emit(Event{Phase: PhaseStage2, Node: t.Name, Step: "write", Result: ResultOK, Message: c.path})
	}
	down := r.opts.Now()
	if err := r.forAll(ctx, written, func(t *Target) error {
		if err := systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout); err != nil {
			return err
		}
		return r.gate(ctx, t, changes[t.Name].want)
	}); err != nil {
		return r.restoreAll(ctx, written, changes, backups, err)
	}
	r.sum.Downtime = r.opts.Now().Sub(down).Seconds()
	for _, name := range written {
		r.nodeSummary(name).Stage2 = "changed"
	}
	r.emit(Event{Phase: PhaseStage2, Step: "together", Result: ResultOK, Duration: r.sum.Downtime,
		Message: fmt.Sprintf("all %d nodes restarted together; the cluster was unavailable for %.1fs", len(written), r.sum.Downtime)})
	return nil
}

// restoreAll puts every written env file back and restarts those nodes together.
func (r *runner) restoreAll(ctx context.Context, names []string, changes map[string]change, backups map[string]string, cause error) error {
	r.emit(Event{Phase: PhaseStage2, Step: "restore", Result: ResultStart, Error: cause.Error()})
	err := r.forAll(ctx, names, func(t *Target) error {
		c := changes[t.Name]
		if err := t.Node.WriteFileAtomic(ctx, c.path, c.old, writeOpts(c.info)); err != nil {
			return err
		}
		return systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout)
	})
	if err == nil {
		err = r.forAll(ctx, names, func(t *Target) error { return r.gate(ctx, t, Want{ClusterSize: len(r.targets)}) })
	}
	if err != nil {
		return &RestoreError{Node: "several", Backup: fmt.Sprint(backups), Cause: cause, Restore: err}
	}
	return &HaltError{Node: "all", Phase: PhaseStage2, Cause: cause, Restored: true,
		Explain: "every node is back on its local HSM key and the cluster is healthy"}
}

// forAll runs fn on the named nodes concurrently and joins their errors.
func (r *runner) forAll(ctx context.Context, names []string, fn func(*Target) error) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(r.byName[name])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
