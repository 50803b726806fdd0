package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
)

// HSMRollbackOptions are the inputs of `kmsctl hsm rollback`.
type HSMRollbackOptions struct {
	nodeDeps
	Output string
	Run    string
	// LocalKeyFile holds the local HSM key, for a rollback after a purge
	// ("-": standard input). Never a flag value: the key is a secret.
	LocalKeyFile string
	Yes          bool
	ForceUnlock  bool
	Gate         migrate.GateOptions
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
its run log.

After a purge (the local HSM's sealed root key entry removed with RemoveHSM) the
local key can no longer unseal any node, so a rollback to the original files is
refused with that reason. Supply the key again with --local-key-file FILE (or
- for standard input; never on the command line): kmsctl first puts it into
every node's env file beside the Vault block (one node at a time, each restart
gated, unsealing through Vault), re-adds the local entry with AddHSM, checks
that every node lists it, and only then rolls the files back. At no step is a
node left without a sealed entry for some configured HSM.`,
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
	c.Flags().StringVar(&opts.LocalKeyFile, "local-key-file", "", "file holding the local HSM key (hsm:...), '-' for standard input: needed after a purge to re-add the local entry")
	c.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	c.Flags().BoolVar(&opts.ForceUnlock, "force-unlock", false, "clear a stale lock left by a run that died")
	c.Flags().DurationVar(&opts.Gate.Timeout, "gate-timeout", opts.Gate.Timeout, "how long a node may take to become healthy after a restart")
	return c
}

func runHSMRollback(ctx context.Context, o *HSMRollbackOptions) error {
	if o.Run == "" {
		return usageError(errors.New("--run is required (the id printed by enable-vault)"))
	}
	if o.LocalKeyFile == "-" && !o.Yes {
		return usageError(errors.New("--local-key-file - reads the key from standard input, so it needs --yes (there is no terminal left to confirm on)"))
	}
	if !o.Yes {
		if o.Confirm == nil {
			return errNoTerminal("")
		}
		if ok, err := o.Confirm("Roll back run " + o.Run + " on every node?"); err != nil || !ok {
			return &ExitError{Code: ExitFailed, Err: errors.New("not confirmed: nothing was changed")}
		}
	}
	localKey, err := o.readLocalKey()
	if err != nil {
		return usageError(err)
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
		Run: o.Run, HasAPIKey: sess.apiKey != "", Gate: o.Gate, LocalKey: localKey, ForceUnlock: o.ForceUnlock,
		Lock: lock, LockOwnerDead: dead, Events: sink,
	}
	o.clock(&mopts)
	_, err = migrate.Rollback(ctx, sess.targets, mopts)
	return rolloutExit(err, o.Run)
}

// readLocalKey reads --local-key-file ("" when not given), from standard
// input for "-". The value never reaches argv, logs or messages.
func (o *HSMRollbackOptions) readLocalKey() (string, error) {
	switch o.LocalKeyFile {
	case "":
		return "", nil
	case "-":
		b, err := io.ReadAll(io.LimitReader(o.IO.In, 4096))
		if err != nil {
			return "", fmt.Errorf("--local-key-file -: read standard input: %w", err)
		}
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
		return "", errors.New("--local-key-file -: standard input is empty")
	}
	b, err := inventory.Secret{Name: "local HSM key", File: o.LocalKeyFile}.Read(o.Secrets)
	return strings.TrimSpace(string(b)), err
}
