package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Phases of `kmsctl hsm rotate`, in order.
const (
	// PhaseRotate rotates the transit key in Vault (only with --rotate).
	PhaseRotate = "rotate"
	// PhaseReseal re-seals every node's root key with the key's latest
	// version (AddHSM with Overwrite).
	PhaseReseal = "reseal"
	// PhaseRetire raises the key's min_decryption_version and proves, one
	// node at a time, that every node still unseals.
	PhaseRetire = "retire"
)

// StateRetired labels a node restarted after the old versions were retired.
const StateRetired = "state after the retire restart"

// KeyVersions are a transit key's version numbers as Vault reports them
// (`vault read transit/keys/<key>`).
type KeyVersions struct {
	Latest        int `json:"latest_version"`
	MinDecryption int `json:"min_decryption_version"`
}

// TransitKey is the Vault transit key the external HSM seals with, reached
// with the rotation identity (never the nodes' own, which may only encrypt,
// decrypt and HMAC). cmd wires it to vaultcheck.KeyAdmin.
type TransitKey interface {
	Versions(ctx context.Context) (KeyVersions, error)
	Rotate(ctx context.Context) error
	SetMinDecryptionVersion(ctx context.Context, v int) error
}

// RotateSpec says what a rotation run does beyond the re-seal.
type RotateSpec struct {
	Key TransitKey
	// KeyPath names the key in messages, e.g. transit/keys/minkms-sealing-key.
	KeyPath string
	// Rotate: rotate the key first (--rotate); otherwise the operator did.
	Rotate bool
	// Retire: raise min_decryption_version to the version the entries were
	// re-sealed with, proven by restarting every node (--retire-old-versions).
	Retire bool
	// NodeVault checks that a node reaches Vault right now; the retire
	// step runs it before it restarts the node (nil: not checked).
	NodeVault func(ctx context.Context, t *Target) error
}

// RotatePlan is what a rotation run will do, as the dry run shows it.
type RotatePlan struct {
	// HSM is the external HSM re-sealed (named by difference).
	HSM string `json:"hsm"`
	Key string `json:"key"`
	// Versions are the key's versions now.
	Versions KeyVersions `json:"versions"`
	Rotate   bool        `json:"rotate"`
	// SealVersion is the version the entries are re-sealed with.
	SealVersion int `json:"seal_version"`
	// RetireBelow is the new min_decryption_version (0: nothing retired).
	RetireBelow   int    `json:"retire_below,omitempty"`
	RetireSkipped string `json:"retire_skipped,omitempty"`
	// Order is the retire step's restart order: followers first, leader last.
	Order []string `json:"order,omitempty"`
}

// plan works out seal and retire versions from the key's versions now.
func (p *RotatePlan) plan(v KeyVersions, retire bool) {
	p.Versions, p.SealVersion = v, v.Latest
	if p.Rotate {
		p.SealVersion = v.Latest + 1
	}
	p.RetireBelow, p.RetireSkipped = 0, ""
	switch {
	case !retire:
		p.RetireSkipped = "without --retire-old-versions: older versions stay usable"
	case p.SealVersion <= v.MinDecryption:
		p.RetireSkipped = fmt.Sprintf("no version to retire: min_decryption_version is already %d", v.MinDecryption)
	default:
		p.RetireBelow = p.SealVersion
	}
}

// PlanRotation is the dry run of a rotation: the same checks as the run
// (every node healthy on the external HSM, the Vault checks, the key's
// versions), no lock, no change.
func PlanRotation(ctx context.Context, targets []*Target, opts Options, spec RotateSpec) (*RotatePlan, error) {
	r := newRunner(targets, opts)
	p, err := r.rotatePreflight(ctx, spec)
	if err != nil {
		return nil, &PreflightError{Err: err}
	}
	return p, nil
}

// Rotate is `kmsctl hsm rotate`: optionally rotate the transit key, re-seal
// every node's root key with its latest version (AddHSM with Overwrite),
// and optionally retire the older versions, proven node by node.
func Rotate(ctx context.Context, targets []*Target, opts Options, spec RotateSpec) (*Summary, error) {
	r := newRunner(targets, opts)
	r.start = r.opts.Now()
	r.emit(Event{Type: "run", Phase: PhaseReseal, Result: ResultStart, Message: fmt.Sprintf("%d nodes", len(targets))})
	err := r.withLocks(ctx, func(ctx context.Context) error { return r.rotateLocked(ctx, spec) })
	return r.finish(err), err
}

func (r *runner) rotateLocked(ctx context.Context, spec RotateSpec) error {
	p, err := r.rotatePreflight(ctx, spec)
	if err != nil {
		return &PreflightError{Err: err}
	}
	r.sum.Order = p.Order
	if err := interrupted(ctx); err != nil {
		return err
	}
	// SIGINT stops the run only between the retire step's nodes.
	wc := context.WithoutCancel(ctx)
	if spec.Rotate {
		if err := r.rotateKey(wc, spec, p); err != nil {
			return err
		}
	}
	if err := r.reseal(wc, p); err != nil {
		return err
	}
	r.sum.KeyVersion = p.SealVersion
	return r.retire(ctx, spec, p)
}

// rotatePreflight checks, before any change, that every node is healthy
// and runs on one external HSM with a sealed entry, runs the Vault checks
// (the hook checks the rotation identity's permissions too) and reads the
// key's versions.
func (r *runner) rotatePreflight(ctx context.Context, spec RotateSpec) (*RotatePlan, error) {
	if !r.opts.HasAPIKey {
		return nil, errors.New("re-sealing needs the key manager API key (MINIO_KMS_API_KEY): AddHSM is a SysAdmin command")
	}
	facts, err := r.readNodes(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckHealth(facts, r.targets, true); err != nil {
		return nil, fmt.Errorf("cluster not healthy (AddHSM needs every node up): %w", err)
	}
	if err := r.baseline(ctx, facts); err != nil {
		return nil, err
	}
	hsm, err := r.externalHSM(facts)
	if err != nil {
		return nil, err
	}
	if spec.Retire {
		if err := r.checkNoLocalHSM(facts); err != nil {
			return nil, err
		}
	}
	if err := r.runPreflightHook(ctx); err != nil {
		return nil, err
	}
	v, err := spec.Key.Versions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", spec.KeyPath, err)
	}
	p := &RotatePlan{HSM: hsm, Key: spec.KeyPath, Rotate: spec.Rotate, Order: orderFromFacts(facts, r.targets)}
	p.plan(v, spec.Retire)
	return p, nil
}

// runPreflightHook runs Options.Preflight and shows its warnings.
func (r *runner) runPreflightHook(ctx context.Context) error {
	if r.opts.Preflight == nil {
		return nil
	}
	warnings, err := r.opts.Preflight(ctx)
	for _, w := range warnings {
		r.emit(Event{Phase: PhasePreflight, Step: "vault", Result: ResultWarn, Message: w})
	}
	return err
}

// externalHSM judges every node with the gate's rule (an HSM not local,
// by difference, configured and holding a sealed entry) and returns the one
// external HSM of the cluster.
func (r *runner) externalHSM(facts []Facts) (string, error) {
	var errs []error
	var ext []string
	for _, f := range facts {
		t := r.byName[f.Name]
		names := r.hsmNames(f.Name)
		self, err := JudgeCluster(f.Cluster, t.Addrs, Want{VaultEntry: true, ClusterSize: len(r.targets)}, names)
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", f.Name, err))
			continue
		}
		ext = union(ext, vaultAdded(self.HSMActive, names.Local))
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("not every node runs on an external HSM with a sealed entry (migrate first: kmsctl hsm enable-vault): %w", errors.Join(errs...))
	}
	slices.Sort(ext)
	if len(ext) != 1 {
		return "", fmt.Errorf("the cluster has %d external HSMs configured (%s): kmsctl re-seals exactly one", len(ext), orNone(ext))
	}
	return ext[0], nil
}

// checkNoLocalHSM refuses the retire step while a node still has a local
// HSM configured: it would unseal with that one whatever Vault refuses, so
// its restart would prove nothing about the new key version.
func (r *runner) checkNoLocalHSM(facts []Facts) error {
	var errs []error
	for _, f := range facts {
		self, _ := findNode(f.Cluster, r.byName[f.Name].Addrs)
		if names := r.hsmNames(f.Name); names != nil {
			if still := intersect(self.HSMActive, names.Local); len(still) > 0 {
				errs = append(errs, fmt.Errorf("node %s still has the local HSM configured (%s): its restart would not prove that it unseals with the new key version; finish the migration (kmsctl hsm enable-vault without --keep-local-hsm) or leave out --retire-old-versions", f.Name, strings.Join(still, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}

// rotateKey rotates the transit key and re-reads its versions.
func (r *runner) rotateKey(ctx context.Context, spec RotateSpec, p *RotatePlan) error {
	r.emit(Event{Phase: PhaseRotate, Step: "rotate", Result: ResultStart, Message: "rotating " + spec.KeyPath})
	if err := spec.Key.Rotate(ctx); err != nil {
		return &HaltError{Node: "vault", Phase: PhaseRotate, Cause: fmt.Errorf("rotate %s: %w", spec.KeyPath, err), Unchanged: true,
			Explain: "no node was touched and no version retired; fix the cause and run again"}
	}
	v, err := spec.Key.Versions(ctx)
	if err == nil && v.Latest <= p.Versions.Latest {
		err = fmt.Errorf("latest_version is still %d after the rotation", v.Latest)
	}
	if err != nil {
		return &HaltError{Node: "vault", Phase: PhaseRotate, Cause: fmt.Errorf("read %s: %w", spec.KeyPath, err), Unchanged: true,
			Explain: "no node was touched and no version retired; check the key with `vault read " + spec.KeyPath + "` and run again without --rotate"}
	}
	p.Rotate = false
	p.plan(v, spec.Retire)
	r.emit(Event{Phase: PhaseRotate, Step: "rotate", Result: ResultOK, Message: fmt.Sprintf("%s latest version is now %d", spec.KeyPath, v.Latest)})
	return nil
}

// reseal sends AddHSM with Overwrite for the external HSM (a cluster-wide
// write: every node re-seals its root key with the key's latest version)
// and waits until every node is healthy with its entry.
func (r *runner) reseal(ctx context.Context, p *RotatePlan) error {
	views, err := r.purgeViews(ctx)
	if err != nil {
		return r.resealHalt("cluster", err)
	}
	admin, via := r.hsmAdmin(views)
	if admin == nil {
		return r.resealHalt(via, errors.New("its API client cannot send AddHSM"))
	}
	r.emit(Event{Phase: PhaseReseal, Node: via, Step: "add-hsm", Result: ResultStart, Message: fmt.Sprintf("AddHSM %s overwrite: re-seal every node's root key with %s version %d", p.HSM, p.Key, p.SealVersion)})
	if err := admin.AddHSM(ctx, p.HSM, true); err != nil {
		return r.resealHalt(via, fmt.Errorf("AddHSM %s: %w", p.HSM, err))
	}
	if err := r.checkAll(ctx, Want{VaultEntry: true, ClusterSize: len(r.targets), Steady: true}); err != nil {
		return r.resealHalt(nodeOf(err), err)
	}
	r.emit(Event{Phase: PhaseReseal, Step: "verify", Result: ResultOK,
		Message: fmt.Sprintf("every node is healthy with its %s entry; the key manager does not report the version it sealed with: the retire step's restarts prove it", p.HSM)})
	return nil
}

// resealHalt is a failed re-seal: no version was retired, so every node's
// entry (old or new version) still unseals.
func (r *runner) resealHalt(node string, err error) error {
	return &HaltError{Node: node, Phase: PhaseReseal, Cause: err, Unchanged: true,
		Explain: "no version was retired, so every node's entry still unseals; fix the cause (every node up, the API key's identity SysAdmin) and run again"}
}

// putBack restores the key's min_decryption_version once, after a failure.
type putBack struct {
	key  TransitKey
	path string
	old  int
	done bool
	emit func(Event)
}

func (pb *putBack) undo(ctx context.Context) error {
	if pb.done {
		return nil
	}
	if err := pb.key.SetMinDecryptionVersion(ctx, pb.old); err != nil {
		pb.emit(Event{Phase: PhaseRetire, Step: "put-back", Result: ResultFail, Error: err.Error()})
		return &HaltError{Node: "vault", Phase: PhaseRetire, Cause: fmt.Errorf("put back min_decryption_version %d on %s: %w", pb.old, pb.path, err),
			Explain: fmt.Sprintf("a node may need a retired version: set it back now with `vault write %s/config min_decryption_version=%d`, then restart the failed node", pb.path, pb.old)}
	}
	pb.done = true
	pb.emit(Event{Phase: PhaseRetire, Step: "put-back", Result: ResultOK, Message: fmt.Sprintf("min_decryption_version of %s put back to %d", pb.path, pb.old)})
	return nil
}

// retire raises min_decryption_version to the re-seal's version, then
// restarts one node at a time (followers first, each through the
// rollout's node step and gate): every restart proves that node unseals
// without the retired versions. Any failure puts min_decryption_version
// back before the node is restored, and stops the run.
func (r *runner) retire(ctx context.Context, spec RotateSpec, p *RotatePlan) error {
	wc := context.WithoutCancel(ctx)
	if p.RetireBelow == 0 {
		r.emit(Event{Phase: PhaseRetire, Result: ResultSkip, Message: p.RetireSkipped})
		return nil
	}
	pb := &putBack{key: spec.Key, path: spec.KeyPath, old: p.Versions.MinDecryption, emit: r.emit}
	r.emit(Event{Phase: PhaseRetire, Step: "config", Result: ResultStart, Message: fmt.Sprintf("min_decryption_version of %s: %d -> %d", spec.KeyPath, pb.old, p.RetireBelow)})
	if err := spec.Key.SetMinDecryptionVersion(wc, p.RetireBelow); err != nil {
		_ = pb.undo(wc)
		return &HaltError{Node: "vault", Phase: PhaseRetire, Cause: fmt.Errorf("set min_decryption_version on %s: %w", spec.KeyPath, err), Unchanged: true,
			Explain: "every node is re-sealed with the latest version, no version was retired; fix the cause and run again"}
	}
	for _, name := range p.Order {
		if err := r.retireNode(ctx, spec, p, pb, r.byName[name]); err != nil {
			return err
		}
	}
	if err := r.checkAll(wc, Want{VaultEntry: true, ClusterSize: len(r.targets), Steady: true}); err != nil {
		if uerr := pb.undo(wc); uerr != nil {
			return uerr
		}
		return &HaltError{Node: nodeOf(err), Phase: PhaseRetire, Cause: err, Explain: "every node passed its restart but the final check did not; min_decryption_version was put back; inspect the cluster with `kmsctl status`"}
	}
	r.sum.MinDecryptionVersion = p.RetireBelow
	r.emit(Event{Phase: PhaseRetire, Result: ResultOK, Message: fmt.Sprintf("every node restarted and unsealed with %s version %d; versions below it are retired", spec.KeyPath, p.RetireBelow)})
	return nil
}

// retireNode proves one node: it must reach Vault (else it is not
// restarted), then its restart and gate run as the rollout's node step.
func (r *runner) retireNode(ctx context.Context, spec RotateSpec, p *RotatePlan, pb *putBack, t *Target) error {
	if err := interrupted(ctx); err != nil {
		if uerr := pb.undo(context.WithoutCancel(ctx)); uerr != nil {
			return uerr
		}
		return fmt.Errorf("%w (min_decryption_version was put back to %d)", err, pb.old)
	}
	ctx = context.WithoutCancel(ctx)
	if spec.NodeVault != nil {
		if err := spec.NodeVault(ctx, t); err != nil {
			if uerr := pb.undo(ctx); uerr != nil {
				return uerr
			}
			return &HaltError{Node: t.Name, Phase: PhaseRetire, Cause: err, Unchanged: true, State: r.stateOf(t.Name),
				Explain: fmt.Sprintf("the node was not restarted (it runs, and could not unseal without Vault); min_decryption_version was put back to %d; fix the node's route to Vault and run again", pb.old)}
		}
	}
	r.emit(Event{Phase: PhaseRetire, Node: t.Name, Step: "restart", Result: ResultStart, Message: fmt.Sprintf("proving the node unseals with %s version %d", spec.KeyPath, p.RetireBelow)})
	return r.runStep(ctx, nodeStep{t: t, phase: PhaseRetire, label: StateRetired,
		want: Want{VaultEntry: true, ClusterSize: len(r.targets)}, undo: pb.undo,
		explain: func(error, string) string {
			return fmt.Sprintf("min_decryption_version was put back to %d before the node was restored; its journal is below; the nodes after it were not restarted", pb.old)
		}})
}

// orderFromFacts is the restart order of a run: followers first, the
// leader (from any node's cluster view) last.
func orderFromFacts(facts []Facts, targets []*Target) []string {
	order, _, _ := restartOrderFromFacts(facts, targets)
	return order
}

// describeRotatePlan is the plan's steps in words, for the terminal.
func describeRotatePlan(p *RotatePlan) []string {
	var out []string
	if p.Rotate {
		out = append(out, fmt.Sprintf("rotate %s (latest version %d -> %d)", p.Key, p.Versions.Latest, p.SealVersion))
	}
	out = append(out, fmt.Sprintf("AddHSM %s overwrite: every node re-seals its root key with version %d", p.HSM, p.SealVersion))
	if p.RetireBelow == 0 {
		return append(out, "retire: skipped ("+p.RetireSkipped+")")
	}
	return append(out,
		fmt.Sprintf("set min_decryption_version of %s: %d -> %d", p.Key, p.Versions.MinDecryption, p.RetireBelow),
		"restart one node at a time, each gated: "+strings.Join(p.Order, ", ")+" (any failure puts min_decryption_version back and restores the node)")
}

// Steps lists what the run will do, in order, for the plan's display.
func (p *RotatePlan) Steps() []string { return describeRotatePlan(p) }
