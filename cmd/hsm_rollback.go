package cmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/migrate"
)

// HSMRollbackOptions are the inputs of `kmsctl hsm rollback`.
type HSMRollbackOptions struct {
	nodeDeps
	Output      string
	Run         string
	Yes         bool
	ForceUnlock bool
	Gate        migrate.GateOptions
	runDeps
	Confirm func(question string) (bool, error)
}

func newCmdHSMRollback(f *Factory, runF func(context.Context, *HSMRollbackOptions) error) *cobra.Command {
	opts := &HSMRollbackOptions{Gate: migrate.DefaultGate}
	c := &cobra.Command{
		Use:   "rollback -i FILE --run ID",
		Short: "Put back the files a run changed, one node at a time with health gates",
		Long: `Restore the backups a run of 'kmsctl hsm enable-vault' made on every node it
touched, one node at a time (restart and health gate after each). A node whose
restored files would leave it without any HSM is refused before anything
changes: it could not unseal. The run id is printed by enable-vault and is in
its run log.`,
		Example: `  kmsctl hsm rollback -i kms.yaml --run 20261127T080102Z-3fa9c1`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps = f.nodeDeps()
			opts.Output, opts.runDeps, opts.Confirm = f.Global.Output, f.runDeps(), f.IO.Confirm()
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runHSMRollback(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Run, "run", "", "id of the run to roll back (required)")
	c.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	c.Flags().BoolVar(&opts.ForceUnlock, "force-unlock", false, "clear a stale lock left by a run that died")
	c.Flags().DurationVar(&opts.Gate.Timeout, "gate-timeout", opts.Gate.Timeout, "how long a node may take to become healthy after a restart")
	return c
}

func runHSMRollback(ctx context.Context, o *HSMRollbackOptions) error {
	if o.Run == "" {
		return usageError(errors.New("--run is required (the id printed by enable-vault)"))
	}
	if !o.Yes {
		if o.Confirm == nil {
			return usageError(errors.New("refusing to change the cluster without a terminal to confirm on: pass --yes"))
		}
		if ok, err := o.Confirm("Roll back run " + o.Run + " on every node?"); err != nil || !ok {
			return &ExitError{Code: ExitFailed, Err: errors.New("not confirmed: nothing was changed")}
		}
	}
	sess, err := openSession(ctx, o.nodeDeps)
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	defer sess.Close()
	sink, closeLog := newEventSink(o.IO, o.Output, o.StateDir, o.Run+"-rollback")
	defer closeLog()
	lock, dead := o.Lock()
	mopts := migrate.Options{
		Run: o.Run, HasAPIKey: sess.apiKey != "", Gate: o.Gate, ForceUnlock: o.ForceUnlock,
		Lock: lock, LockOwnerDead: dead, Events: sink,
	}
	o.clock(&mopts)
	_, err = migrate.Rollback(ctx, sess.targets, mopts)
	return rolloutExit(err, o.Run)
}
