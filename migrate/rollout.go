package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// Options configure a rollout (Apply) or a rollback.
type Options struct {
	Run             string
	Desired         Desired
	InventoryDigest string
	// Saved, when set, is a reviewed plan: the run refuses to start when the
	// nodes' files no longer match it.
	Saved     *Plan
	HasAPIKey bool
	// APIIdentity is the identity (h1:...) of the operator's API key, for
	// the admin.identity check ("" without a key).
	APIIdentity string
	// Preflight runs the Vault checks (from the operator and every node);
	// it returns warnings to show and an error that stops the run.
	Preflight   func(ctx context.Context) ([]string, error)
	Gate        GateOptions
	KeepBackups bool
	// LocalKey is the local HSM key the operator supplied to `hsm rollback`
	// after a purge (a secret: never logged; "" when not supplied).
	LocalKey    string
	ForceUnlock bool
	Parallel    int
	// Lock identifies this run in the nodes' lock files.
	Lock LockInfo
	// LockOwnerDead spots locks left by dead runs of this host (nil: none).
	LockOwnerDead LockOwnerDead
	// Tick makes the lock-refresh ticker (nil: a real one); tests pass a
	// fake clock's.
	Tick   func(time.Duration) (<-chan time.Time, func())
	Events EventSink
	Now    func() time.Time
	// After is the clock's wait (nil: time.After): the health gate's polls,
	// its deadline and the settle period run on Now and After, so a test
	// with a fake clock gates in microseconds what takes minutes for real.
	// Set both or neither: with a frozen Now and the real After a settle
	// period never ends (the gate's real-time bound stops it).
	After func(time.Duration) <-chan time.Time
}

// NodeSummary is one node's outcome.
type NodeSummary struct {
	Name   string  `json:"name"`
	Stage1 string  `json:"stage1"`
	Stage2 string  `json:"stage2"`
	Time   float64 `json:"duration_s"`
}

// Summary is the final account of a run.
type Summary struct {
	Run    string `json:"run"`
	Result string `json:"result"`
	// State is the state the halting node was left in, when it halted.
	State    string        `json:"state,omitempty"`
	Duration float64       `json:"duration_s"`
	Order    []string      `json:"order,omitempty"`
	Nodes    []NodeSummary `json:"nodes,omitempty"`
	// Downtime is the outage of a `--stage2 together` restart: from the
	// restarts until the first node served again (ready: a quorum with a
	// leader), which is what clients see for reads.
	Downtime float64 `json:"downtime_s,omitempty"`
	// WriteDowntime lasts until the last node was ready again: writes need
	// every node up.
	WriteDowntime float64  `json:"write_downtime_s,omitempty"`
	BackupsKept   []string `json:"backups_kept,omitempty"`
	// LocalEntry says what became of the local HSM's sealed root key
	// entries: removed, already removed, or kept and why.
	LocalEntry string `json:"local_entry,omitempty"`
	// KeyVersion is the transit key version a rotation re-sealed with;
	// MinDecryptionVersion the key's new min_decryption_version when the
	// rotation retired the older versions.
	KeyVersion           int      `json:"key_version,omitempty"`
	MinDecryptionVersion int      `json:"min_decryption_version,omitempty"`
	Warnings             []string `json:"warnings,omitempty"`
}

type runner struct {
	opts    Options
	targets []*Target
	byName  map[string]*Target
	facts   map[string]Facts
	sum     *Summary
	start   time.Time

	mu sync.Mutex
	// history is each node's states in this run that passed a gate, oldest
	// first (restore.go walks it back).
	history map[string][]nodeState
	// watch is each node's unit when it last passed a gate (watch.go).
	watch map[string]systemd.UnitState
	// hsms tells each node's local and Vault HSMs apart (hsms.go).
	hsms map[string]*HSMNames
	// readyAt, while a together restart is measured, is when each node
	// first answered ready (before its settle period).
	readyAt map[string]time.Time
	// manifests is each node's backup manifest of this run as kmsctl last
	// wrote or read it (step.go), so a step's file work is one batch.
	manifests map[string]Manifest
}

func newRunner(targets []*Target, opts Options) *runner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Gate == (GateOptions{}) {
		opts.Gate = DefaultGate
	}
	if opts.Events == nil {
		opts.Events = &Recorder{}
	}
	r := &runner{opts: opts, targets: targets, byName: map[string]*Target{}, facts: map[string]Facts{},
		history: map[string][]nodeState{}, watch: map[string]systemd.UnitState{}, hsms: map[string]*HSMNames{}, manifests: map[string]Manifest{}}
	for _, t := range targets {
		r.byName[t.Name] = t
	}
	r.sum = &Summary{Run: opts.Run}
	return r
}

func (r *runner) emit(e Event) {
	e.Schema, e.Run = EventSchema, r.opts.Run
	if e.Time.IsZero() {
		e.Time = r.opts.Now().UTC()
	}
	if e.Type == "" {
		e.Type = "step"
	}
	r.opts.Events.Emit(e)
}

// Apply migrates the cluster to the Vault HSM: locks, preflight, stage 1
// (Vault block, leader last), stage 2 (local key removal, canary first),
// verification and clean-up. Errors are *PreflightError, *HaltError,
// *RestoreError or wrap ErrInterrupted.
func Apply(ctx context.Context, targets []*Target, opts Options) (*Summary, error) {
	r := newRunner(targets, opts)
	r.start = r.opts.Now()
	r.emit(Event{Type: "run", Result: ResultStart, Message: fmt.Sprintf("%d nodes", len(targets))})
	err := r.apply(ctx)
	return r.finish(err), err
}

func (r *runner) apply(ctx context.Context) error {
	return r.withLocks(ctx, r.applyLocked)
}

func (r *runner) applyLocked(ctx context.Context) error {
	plan, err := r.preflight(ctx)
	if err != nil {
		return &PreflightError{Err: err}
	}
	r.sum.Order = plan.Order
	if !plan.Pending() {
		r.emit(Event{Phase: PhaseVerify, Result: ResultOK, Message: "every node already runs on Vault: nothing to do"})
		return r.purgeOnly(ctx)
	}
	if err := r.stage1(ctx, plan); err != nil {
		return err
	}
	if err := r.between(ctx); err != nil {
		return err
	}
	if !r.opts.Desired.KeepLocalHSM {
		if err := r.stage2(ctx, plan); err != nil {
			return err
		}
	}
	if err := r.verify(ctx); err != nil {
		return err
	}
	r.cleanup(ctx)
	return r.purgeAfterStages(ctx)
}

// finish turns the outcome into the summary and emits it.
func (r *runner) finish(err error) *Summary {
	r.sum.Duration = r.opts.Now().Sub(r.start).Seconds()
	o := OutcomeOf(err)
	r.sum.Result, r.sum.State = string(o.Kind), o.State
	ev := Event{Type: "summary", Result: r.sum.Result, Duration: r.sum.Duration, Summary: r.sum}
	if err != nil {
		ev.Error = err.Error()
	}
	r.emit(ev)
	return r.sum
}

// preflight gathers facts, checks health and Vault, and plans.
func (r *runner) preflight(ctx context.Context) (*Plan, error) {
	started := r.opts.Now()
	r.emit(Event{Phase: PhasePreflight, Type: "phase", Result: ResultStart})
	facts, err := r.readNodes(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckHealth(facts, r.targets, r.opts.HasAPIKey); err != nil {
		return nil, fmt.Errorf("cluster not healthy: %w", err)
	}
	if err := r.baseline(ctx, facts); err != nil {
		return nil, err
	}
	warnings, err := CheckAdminIdentity(facts, r.targets, r.opts.APIIdentity, r.opts.Desired)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		r.emit(Event{Phase: PhasePreflight, Step: "admin", Result: ResultWarn, Message: w})
	}
	if err := r.runPreflightHook(ctx); err != nil {
		return nil, err
	}
	plan, err := PlanFromFacts(facts, r.targets, r.opts.Desired)
	if err != nil {
		return nil, err
	}
	if r.opts.Saved != nil {
		if err := CheckSavedPlan(r.opts.Saved, plan, r.opts.InventoryDigest); err != nil {
			return nil, err
		}
	}
	for _, w := range plan.Warnings {
		r.emit(Event{Phase: PhasePreflight, Result: ResultWarn, Message: w})
	}
	r.emit(Event{Phase: PhasePreflight, Type: "phase", Result: ResultOK, Duration: r.opts.Now().Sub(started).Seconds(),
		Message: fmt.Sprintf("order %v (%s)", plan.Order, plan.OrderSource)})
	return plan, nil
}

// readNodes runs the file preflight and gathers every node's facts.
func (r *runner) readNodes(ctx context.Context) ([]Facts, error) {
	if err := CheckNodes(ctx, r.targets, r.opts.Parallel); err != nil {
		return nil, err
	}
	facts, err := GatherFacts(ctx, r.targets, r.opts.Parallel)
	if err != nil {
		return nil, err
	}
	for _, f := range facts {
		r.facts[f.Name] = f
	}
	return facts, nil
}

// interrupted is checked before any node is started.
func interrupted(ctx context.Context) error {
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return nil
}

// stage1 writes the Vault block on one node at a time, leader last.
func (r *runner) stage1(ctx context.Context, plan *Plan) error {
	r.emit(Event{Phase: PhaseStage1, Type: "phase", Result: ResultStart})
	for _, np := range plan.Nodes {
		ns := r.nodeSummary(np.Name)
		if !np.Stage1.Changed {
			ns.Stage1 = "already done"
			r.emit(Event{Phase: PhaseStage1, Node: np.Name, Step: "skip", Result: ResultSkip, Message: "the Vault block is already in place"})
			continue
		}
		if err := interrupted(ctx); err != nil {
			return err
		}
		if err := r.runStep(ctx, r.stage1Step(np)); err != nil {
			ns.Stage1 = stepResult(np.Name, err)
			return err
		}
		ns.Stage1 = "changed"
	}
	return nil
}

func (r *runner) stage1Step(np NodePlan) nodeStep {
	t, f := r.byName[np.Name], r.facts[np.Name]
	return nodeStep{t: t, phase: PhaseStage1, label: StateStage1,
		edits:   []fileEdit{{path: t.ConfigPath, old: f.Files.Config, new: np.NewConfig(), info: f.ConfigInfo, secret: true}},
		want:    Want{VaultEntry: true, ClusterSize: len(r.targets)},
		explain: stage1Explain,
	}
}

// stepResult is a node's summary entry after its step failed: the step
// itself passed when the halt is about another node (the restart watch).
func stepResult(node string, err error) string {
	o := OutcomeOf(err)
	if o.Node != node && o.Node != "" {
		return "changed"
	}
	switch o.Kind {
	case OutcomeUnchanged:
		return "unchanged"
	case OutcomeHalted:
		return "restored"
	}
	return "needs operator"
}

// between checks that every node has a Vault entry before any local key
// goes, and that no node restarted on its own since its gate.
func (r *runner) between(ctx context.Context) error {
	// One more settle period before any key goes: a node that crashes a
	// little later than its own settle period is still caught here.
	r.emit(Event{Phase: PhaseBetween, Step: "watch", Result: ResultWait, Message: "watching every node for one more settle period"})
	select {
	case <-ctx.Done():
		return ErrInterrupted
	case <-r.opts.After(r.opts.Gate.Settle):
	}
	if err := r.checkWatch(context.WithoutCancel(ctx), PhaseBetween, ""); err != nil {
		return err
	}
	if !r.opts.HasAPIKey {
		r.emit(Event{Phase: PhaseBetween, Result: ResultWarn, Message: "no API key: cannot see the nodes' HSM entries; stage 2 relies on its canary node"})
		return nil
	}
	if err := r.checkAll(ctx, Want{VaultEntry: true, ClusterSize: len(r.targets), Steady: true}); err != nil {
		node := nodeOf(err)
		journal := ""
		if t, ok := r.byName[node]; ok {
			journal = systemd.Journal(context.WithoutCancel(ctx), t.Node, t.Unit, 20)
		}
		return &HaltError{Node: node, Phase: PhaseBetween, Cause: err, Unchanged: true, State: r.stateOf(node), Journal: journal,
			Explain: "stage 2 was not started: no local key was removed, every node still unseals with its local HSM; " + stage1Explain(err, journal)}
	}
	r.emit(Event{Phase: PhaseBetween, Result: ResultOK, Message: "every node has a Vault HSM entry"})
	return nil
}

// verify re-checks the whole cluster at the end: every gate, no unexpected
// restart, and no node's main process still holding the local HSM key.
func (r *runner) verify(ctx context.Context) error {
	if err := r.checkWatch(context.WithoutCancel(ctx), PhaseVerify, ""); err != nil {
		return err
	}
	want := Want{VaultEntry: true, NoLocalHSM: !r.opts.Desired.KeepLocalHSM, ClusterSize: len(r.targets), Steady: true}
	if err := r.checkAll(ctx, want); err != nil {
		return &HaltError{Node: nodeOf(err), Phase: PhaseVerify, Cause: err, Restored: false,
			Explain: "every step passed its gate but the final check did not: inspect the cluster with `kmsctl status`; nothing was rolled back"}
	}
	if !r.opts.Desired.KeepLocalHSM {
		if err := r.checkNoKeyInProcesses(ctx); err != nil {
			return err
		}
	}
	r.emit(Event{Phase: PhaseVerify, Result: ResultOK, Message: "cluster healthy on Vault"})
	return nil
}

func (r *runner) nodeSummary(name string) *NodeSummary {
	for i := range r.sum.Nodes {
		if r.sum.Nodes[i].Name == name {
			return &r.sum.Nodes[i]
		}
	}
	r.sum.Nodes = append(r.sum.Nodes, NodeSummary{Name: name, Stage1: "-", Stage2: "-"})
	return &r.sum.Nodes[len(r.sum.Nodes)-1]
}

// checkAll gates every node at once (no restart, so no settle period).
func (r *runner) checkAll(ctx context.Context, want Want) error {
	names := make([]string, len(r.targets))
	for i, t := range r.targets {
		names[i] = t.Name
	}
	ctx = context.WithoutCancel(ctx)
	return r.forAll(ctx, names, func(t *Target) error { return r.gate(ctx, t, want) })
}

// nodeOf names the first node a (joined) gate error is about.
func nodeOf(err error) string {
	var ge *GateError
	if errors.As(err, &ge) {
		return ge.Node
	}
	return "cluster"
}

// checkNoKeyInProcesses fails the run when any node's main process still
// has MINIO_KMS_HSM_KEY in its environment after stage 2.
func (r *runner) checkNoKeyInProcesses(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	for _, t := range r.targets {
		u, err := systemd.ReadUnit(ctx, t.Node, t.Unit)
		if err == nil {
			var holds bool
			if holds, err = KeyInProcess(ctx, t, u.MainPID); err == nil && holds {
				err = fmt.Errorf("the main process (pid %d) of %s still has %s in its environment", u.MainPID, t.Unit, EnvKey)
			}
		}
		if err != nil {
			return &HaltError{Node: t.Name, Phase: PhaseVerify, Cause: err,
				Explain: "something other than " + t.EnvPath + " gives the daemon the local HSM key (a drop-in's Environment=, another EnvironmentFile): remove it there and restart the node; the run is not a success until then"}
		}
	}
	r.emit(Event{Phase: PhaseVerify, Step: "environ", Result: ResultOK, Message: "no main process holds " + EnvKey})
	return nil
}
