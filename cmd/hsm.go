package cmd

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kmsctl/kmsctl/migrate"
)

// newCmdHSM groups the commands that change a cluster's HSM configuration.
func newCmdHSM(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "hsm",
		Short: "Move a cluster's HSM to Vault, and back",
	}
	c.AddCommand(newCmdHSMEnableVault(f, nil), newCmdHSMRollback(f, nil), newCmdHSMPurgeLocal(f, nil), newCmdHSMRotate(f, nil))
	return c
}

// gateFlags adds the health gate's bounds, shared by every command that
// restarts nodes.
func gateFlags(fl *pflag.FlagSet, g *migrate.GateOptions) {
	fl.DurationVar(&g.Settle, "settle", g.Settle, "how long a restarted unit must stay up with the same PID")
	fl.DurationVar(&g.Timeout, "gate-timeout", g.Timeout, "how long a node may take to become healthy after a restart")
	fl.DurationVar(&g.RestartTimeout, "restart-timeout", g.RestartTimeout, "upper bound for one systemctl restart (the unit has TimeoutStopSec=infinity)")
}

// validateGate refuses gate bounds that would make every gate fail.
func validateGate(g migrate.GateOptions) error {
	if g.Timeout <= 0 || g.RestartTimeout <= 0 || g.Settle < 0 {
		return usageError(errors.New("--gate-timeout and --restart-timeout must be positive, --settle not negative"))
	}
	return nil
}
