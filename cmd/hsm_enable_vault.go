package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/migrate"
)

// HSMEnableVaultOptions are the inputs of `kmsctl hsm enable-vault`.
type HSMEnableVaultOptions struct {
	nodeDeps
	Output           string
	DryRun           bool
	PlanOut          string
	PlanIn           string
	DetailedExitCode bool
	Yes              bool
	Stage2           string
	VaultBlock       string
	KeepLocalHSM     bool
	KeepLocalEntry   bool
	KeepBackups      bool
	ForceUnlock      bool
	SkipVaultCheck   bool
	// NoPinAdmin refuses nodes without admin.identity instead of pinning it.
	NoPinAdmin bool
	Gate       migrate.GateOptions
	runDeps
	// Confirm asks the operator; nil without a terminal.
	Confirm func(question string) (bool, error)
	// Limit is --limit, refused: every node must switch.
	Limit string
	// Changed names the flags given on the command line (a saved plan
	// supplies the others).
	Changed map[string]bool
}

func newCmdHSMEnableVault(f *Factory, runF func(context.Context, *HSMEnableVaultOptions) error) *cobra.Command {
	opts := &HSMEnableVaultOptions{Gate: migrate.DefaultGate}
	c := &cobra.Command{
		Use:   "enable-vault -i FILE",
		Short: "Move every node to the Vault HSM: plan, or apply safely and resumably",
		Long: `Move a running cluster from its local HSM key to the Vault transit HSM of the
inventory, without downtime:

  preflight  Vault checks (as in 'kmsctl vault check'), every node healthy, locks
  stage 1    per node, leader last: write the Vault block, restart, health gate
  stage 2    per node, canary first: remove MINIO_KMS_HSM_KEY, restart, health gate
  verify     the whole cluster on Vault; delete the backups holding the HSM key
  purge      RemoveHSM of the local HSM (IRREVERSIBLE): no node keeps a root key
             entry sealed with the old key; one follower restarted to prove it
             unseals through Vault alone (skip: --keep-local-entry)

A node that fails its gate is restored from its backup and the run stops.
Interrupted runs resume where they stopped. With --dry-run nothing on any node
changes: the plan shows every file diff (secrets redacted) and the order.

Exit status: 0 done (or nothing to do), 2 with --dry-run --detailed-exitcode:
changes pending, 4 preflight failed (nothing changed), 5 halted: the failing
node is as it was, or restored to a state of the run proven to start, 6
interrupted, 7 operator action needed (even the original files did not start,
or the final check failed), 8 migrated to Vault but the local HSM's sealed
entry was not removed (or came back), 64 usage (bad flag, invalid inventory or
plan). See docs/exit-codes.md.`,
		Example: `  kmsctl hsm enable-vault -i kms.yaml --dry-run --out plan.json
  kmsctl hsm enable-vault -i kms.yaml --plan plan.json
  kmsctl hsm enable-vault -i kms.yaml --yes -o json > run.jsonl
  kmsctl hsm enable-vault -i kms.yaml --stage2 together --yes`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps = f.nodeDeps()
			opts.Output, opts.runDeps = f.Global.Output, f.runDeps()
			opts.Confirm = f.IO.Confirm()
			opts.Changed = changedFlags(c)
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runHSMEnableVault(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show the plan and change nothing on any node")
	fl.StringVar(&opts.Limit, "limit", "", "refused: every node of a cluster must switch HSM")
	fl.StringVar(&opts.PlanOut, "out", "", "with --dry-run: save the plan (no secrets) to this file")
	fl.StringVar(&opts.PlanIn, "plan", "", "apply this saved plan (its --stage2, --keep-local-hsm, --keep-local-entry, --vault-block), only if the nodes still match it")
	fl.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "with --dry-run: exit 0 when nothing would change, 2 when changes are pending (usage errors exit 64)")
	fl.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (CI)")
	fl.StringVar(&opts.Stage2, "stage2", string(migrate.Stage2Rolling), "how the local HSM key is removed: rolling (canary, then one node at a time) or together (all nodes at once, with a short outage)")
	fl.StringVar(&opts.VaultBlock, "vault-block", "", "block to write: hsm.hashicorp.vault (default) or hsm.vault (a node's existing Vault spelling is kept), or hsm.openssf.openbao for an OpenBao server (same fields)")
	fl.BoolVar(&opts.KeepLocalHSM, "keep-local-hsm", false, "stop after stage 1: keep MINIO_KMS_HSM_KEY on the nodes")
	fl.BoolVar(&opts.KeepLocalEntry, "keep-local-entry", false, "skip the purge: keep the local HSM's sealed root key entry in every node's database (an old copy of the local key then still unseals a copy of a volume)")
	fl.BoolVar(&opts.KeepBackups, "keep-backups", false, "keep the backups that hold the HSM key (each is a copy of the key)")
	fl.BoolVar(&opts.ForceUnlock, "force-unlock", false, "clear a stale lock left by a run that died (a fresh lock is never cleared)")
	fl.BoolVar(&opts.NoPinAdmin, "no-pin-admin", false, "do not pin admin.identity to your API key's identity on nodes whose config has none: refuse them instead")
	fl.BoolVar(&opts.SkipVaultCheck, "skip-vault-check", false, "skip the Vault checks of the preflight (not recommended)")
	gateFlags(fl, &opts.Gate)
	return c
}

func (o *HSMEnableVaultOptions) validate() error {
	switch {
	case o.Stage2 != string(migrate.Stage2Rolling) && o.Stage2 != string(migrate.Stage2Together):
		return usageError(fmt.Errorf("--stage2 %q: must be rolling or together", o.Stage2))
	case o.DryRun && o.PlanIn != "":
		return usageError(errors.New("--plan applies a saved plan; it cannot be combined with --dry-run"))
	case !o.DryRun && (o.PlanOut != "" || o.DetailedExitCode):
		return usageError(errors.New("--out and --detailed-exitcode go with --dry-run"))
	}
	return validateGate(o.Gate)
}

func runHSMEnableVault(ctx context.Context, o *HSMEnableVaultOptions) error {
	d, saved, err := o.refuseEarly()
	if err != nil {
		return err
	}
	sess, err := openSession(ctx, o.nodeDeps)
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	defer sess.Close()
	if !o.NoPinAdmin {
		d.PinAdmin = apiIdentity(sess.apiKey)
	}
	d.KeepLocalEntry = o.KeepLocalEntry
	if o.DryRun {
		return runPlan(ctx, o, sess, d)
	}
	return runApply(ctx, o, sess, d, saved)
}

// runApply confirms, then carries out the migration with live progress.
func runApply(ctx context.Context, o *HSMEnableVaultOptions, sess *hsmSession, d migrate.Desired, saved *migrate.Plan) error {
	if err := o.confirm(ctx, sess, d); err != nil {
		return err
	}
	run := newRunID(o.Now())
	sink, closeLog := o.eventSink(run)
	defer closeLog()
	lock, dead := o.Lock()
	mopts := migrate.Options{
		Run: run, Desired: d, InventoryDigest: sess.inv.Digest(), Saved: saved, HasAPIKey: sess.apiKey != "", APIIdentity: apiIdentity(sess.apiKey),
		Gate: o.Gate, KeepBackups: o.KeepBackups, ForceUnlock: o.ForceUnlock, Parallel: o.Parallel,
		Lock: lock, LockOwnerDead: dead, Events: sink,
	}
	o.clock(&mopts)
	if !o.SkipVaultCheck {
		mopts.Preflight = func(ctx context.Context) ([]string, error) {
			return vaultPreflight(ctx, sess, d.Vault, o.Secrets, o.Parallel)
		}
	}
	_, err := migrate.Apply(ctx, sess.targets, mopts)
	return rolloutExit(err, run)
}

// confirm shows what will happen and asks, unless --yes.
func (o *HSMEnableVaultOptions) confirm(ctx context.Context, sess *hsmSession, d migrate.Desired) error {
	return confirmChange(o.Yes, o.Confirm, " (after reviewing --dry-run)", "Apply this plan to the cluster?", func() error {
		plan, err := buildPlan(ctx, sess, d, o.Parallel)
		if err == nil {
			writePlanSummary(o.IO.ErrOut, o.IO.ErrRenderOptions(), plan)
		}
		return err
	})
}

// rolloutExit maps the rollout's typed outcome (the one the summary reports
// too) onto the documented exit codes and tells the operator how to go on:
// 5 only when the failing node is as it was or proven healthy in a state of
// the run, 7 when it needs the operator.
func rolloutExit(err error, run string) error {
	o := migrate.OutcomeOf(err)
	code := ExitFailed
	switch o.Kind {
	case migrate.OutcomeSuccess:
		return nil
	case migrate.OutcomePreflight:
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	case migrate.OutcomeHalted, migrate.OutcomeUnchanged:
		code = ExitHaltedRestored
	case migrate.OutcomeActionNeeded:
		code = ExitRollbackFailed
	case migrate.OutcomeInterrupted:
		code = ExitInterrupted
	case migrate.OutcomeNotPurged:
		code = ExitNotPurged
	}
	msg := fmt.Errorf("run %s: %w", run, err)
	if o.Journal != "" {
		msg = fmt.Errorf("%w\nlast journal lines of %s:\n%s", msg, o.Node, o.Journal)
	}
	return &ExitError{Code: code, Err: msg}
}

// newRunID names a run: sortable time plus randomness, safe in file names.
func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
