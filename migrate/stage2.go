package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
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
		if err := r.runStep(ctx, r.stage2Step(np)); err != nil {
			r.nodeSummary(np.Name).Stage2 = stepResult(np.Name, err)
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

func (r *runner) stage2Step(np NodePlan) nodeStep {
	t, f := r.byName[np.Name], r.facts[np.Name]
	return nodeStep{t: t, phase: PhaseStage2, label: StateStage2,
		edits:   []fileEdit{{path: t.EnvPath, old: f.Files.Env, new: np.NewEnv(), info: f.EnvInfo, holdsKey: true}},
		want:    Want{VaultEntry: true, NoLocalHSM: true, ClusterSize: len(r.targets)},
		explain: stage2Explain,
	}
}

// stage1Explain turns a failed stage-1 gate into advice drawn from its
// evidence: a node that started without a sealed entry for its Vault HSM is
// told apart from one that did not start.
func stage1Explain(err error, journal string) string {
	var me *MissingEntryError
	var ge *GateError
	if errors.As(err, &me) && errors.As(err, &ge) {
		return fmt.Sprintf("%s %s; Vault said: %s", ge.Node, me.Error(), vaultSaid(journal))
	}
	return "the node did not run with the Vault block; check the Vault settings, the node's route to Vault and its journal"
}

// stage2Explain turns a failed stage-2 gate into operator advice. The
// `--stage2 together` advice needs evidence of an inter-node rejection: the
// canary's unit running but the node not ready (no quorum with its peers),
// or its view of its peers failing.
func stage2Explain(err error, journal string) string {
	var ve *ViewError
	var ls *LocalStillError
	var ge *GateError
	switch {
	case errors.As(err, &ve), errors.As(err, &ge) && ge.Probe == "ready":
		return splitAdvice
	case errors.As(err, &ls):
		return "the key was removed from the env file but the node still has the local HSM configured: another EnvironmentFile, an Environment= line in a drop-in or the unit itself sets MINIO_KMS_HSM_KEY (`systemctl cat` the unit)"
	case errors.As(err, new(*MissingEntryError)):
		return stage1Explain(err, journal)
	}
	return "the node could not run without its local HSM key; it is back on it. Check the Vault HSM entries with `kmsctl status` and the node's journal"
}

// vaultSaid picks the node's last journal line about Vault, the evidence
// of why its Vault HSM did not unseal.
func vaultSaid(journal string) string {
	lines := strings.Split(journal, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), "vault") {
			return strings.TrimSpace(lines[i])
		}
	}
	return "nothing in the node's last journal lines (below)"
}

// stage2Together edits every node, restarts them all at once and waits for
// the whole cluster; the outage is measured and reported. A failure walks
// every written node back together (restore.go).
func (r *runner) stage2Together(ctx context.Context, pending []NodePlan) error {
	if err := interrupted(ctx); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	steps := make(map[string]nodeStep, len(pending))
	files := make(map[string]stepFiles, len(pending))
	for _, np := range pending {
		s := r.stage2Step(np)
		f, err := r.stepFiles(ctx, s)
		if err == nil {
			_, err = r.applyStepFiles(ctx, s, f, 0, f.prepared)
		}
		if err != nil {
			return r.unchanged(s, err)
		}
		steps[np.Name], files[np.Name] = s, f
	}
	var written []string
	for _, np := range pending {
		s, f := steps[np.Name], files[np.Name]
		if changed, cause := r.applyStepFiles(ctx, s, f, f.prepared, len(f.ops)); cause != nil {
			if len(written) == 0 && !changed {
				return r.unchanged(s, cause)
			}
			return r.restore(ctx, append(written, np.Name), PhaseStage2, cause, togetherExplain, false)
		}
		written = append(written, np.Name)
	}
	down := r.measureReady()
	if err := r.forAll(ctx, written, func(t *Target) error { return r.restartAndGate(ctx, PhaseStage2, t, steps[t.Name].want) }); err != nil {
		return r.restore(ctx, written, PhaseStage2, err, togetherExplain, false)
	}
	r.sum.Downtime, r.sum.WriteDowntime = r.outage(down)
	for _, name := range written {
		r.reached(steps[name])
		r.nodeSummary(name).Stage2 = "changed"
	}
	r.emit(Event{Phase: PhaseStage2, Step: "together", Result: ResultOK, Duration: r.sum.Downtime,
		Message: fmt.Sprintf("all %d nodes restarted together; the cluster served no request for %.1fs and refused writes for %.1fs", len(written), r.sum.Downtime, r.sum.WriteDowntime)})
	return r.checkWatch(ctx, PhaseStage2, "")
}

func togetherExplain(error, string) string {
	return "every node was walked back together to the state named above and the cluster is healthy"
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

// measureReady starts recording when each node first answers ready and
// returns the start of the outage.
func (r *runner) measureReady() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readyAt = map[string]time.Time{}
	return r.opts.Now()
}

// markReady records the first ready answer of a node while measured.
func (r *runner) markReady(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.readyAt[name]; r.readyAt != nil && !seen {
		r.readyAt[name] = r.opts.Now()
	}
}

// outage ends the measurement: seconds from down until the first node was
// ready (reads served again) and until the last one was (writes).
func (r *runner) outage(down time.Time) (read, write float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	first, last := r.opts.Now(), down
	for _, at := range r.readyAt {
		first, last = minTime(first, at), maxTime(last, at)
	}
	if len(r.readyAt) == 0 {
		last = r.opts.Now()
	}
	r.readyAt = nil
	return first.Sub(down).Seconds(), last.Sub(down).Seconds()
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
