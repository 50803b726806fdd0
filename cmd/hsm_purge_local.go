package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/migrate"
)

// HSMPurgeLocalOptions are the inputs of `kmsctl hsm purge-local`.
type HSMPurgeLocalOptions struct {
	nodeDeps
	Output      string
	Yes         bool
	ForceUnlock bool
	Gate        migrate.GateOptions
	runDeps
	Confirm func(question string) (bool, error)
}

func newCmdHSMPurgeLocal(f *Factory, runF func(context.Context, *HSMPurgeLocalOptions) error) *cobra.Command {
	opts := &HSMPurgeLocalOptions{Gate: migrate.DefaultGate}
	c := &cobra.Command{
		Use:   "purge-local -i FILE",
		Short: "Remove the local HSM's sealed root key entry from a cluster that runs on Vault",
		Long: `Do the purge step of 'kmsctl hsm enable-vault' alone, for a cluster migrated
before kmsctl had it, with --keep-local-entry, or by hand.

Removing MINIO_KMS_HSM_KEY from the nodes does not remove the root key entry
sealed with it: whoever holds an old copy of the key and a copy of a volume can
still unseal it. This command sends RemoveHSM for the local HSM (a
cluster-wide write), checks that no node lists it any more, restarts one
follower and checks that it unseals through Vault and that the entry stays
gone. IRREVERSIBLE: once the copies of the key are gone, the entry cannot be
sealed again.

The local HSM is the one configured before the migration: kmsctl reads the
names its runs recorded on the nodes; without a record, it is the HSM that
holds an entry but is no longer configured (shown before anything changes).
Refused, with nothing changed (exit 4), unless every node is up and runs on
Vault alone. A cluster already purged is left alone (exit 0).

Exit status: 0 done (or nothing to do), 4 refused (nothing changed), 7 the
restarted node did not come back (its journal is shown), 8 the entry could not
be removed or came back at start-up. See docs/exit-codes.md.`,
		Example: `  kmsctl hsm purge-local -i kms.yaml
  kmsctl hsm purge-local -i kms.yaml --yes -o json > purge.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps = f.nodeDeps()
			opts.Output, opts.runDeps, opts.Confirm = f.Global.Output, f.runDeps(), f.IO.Confirm()
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runHSMPurgeLocal(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (CI)")
	fl.BoolVar(&opts.ForceUnlock, "force-unlock", false, "clear a stale lock left by a run that died")
	gateFlags(fl, &opts.Gate)
	return c
}

func runHSMPurgeLocal(ctx context.Context, o *HSMPurgeLocalOptions) error {
	if err := validateGate(o.Gate); err != nil {
		return err
	}
	if !o.Yes && o.Confirm == nil { // refuse before connecting to any node
		return errNoTerminal("")
	}
	sess, err := openSession(ctx, o.nodeDeps)
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	defer sess.Close()
	if err := o.confirm(ctx, sess); err != nil {
		return err
	}
	run := newRunID(o.Now())
	sink, closeLog := newEventSink(o.IO, o.Output, o.StateDir, run)
	defer closeLog()
	lock, dead := o.Lock()
	mopts := migrate.Options{
		Run: run, HasAPIKey: sess.apiKey != "", Gate: o.Gate, ForceUnlock: o.ForceUnlock, Parallel: o.Parallel,
		Lock: lock, LockOwnerDead: dead, Events: sink,
	}
	o.clock(&mopts)
	_, err = migrate.Purge(ctx, sess.targets, mopts)
	return rolloutExit(err, run)
}

// confirm shows what the purge will remove and asks, unless --yes.
func (o *HSMPurgeLocalOptions) confirm(ctx context.Context, sess *hsmSession) error {
	return confirmChange(o.Yes, o.Confirm, "", "Remove the local HSM's sealed entry from every node?", func() error {
		facts, err := migrate.GatherFacts(ctx, sess.targets, o.Parallel)
		if err == nil {
			writePurgeSummary(o.IO.ErrOut, o.IO.ErrRenderOptions(), migrate.PlanPurge(ctx, facts, sess.targets, migrate.Desired{}, sess.apiKey != ""))
		}
		return err
	})
}
