package cmd

import "github.com/spf13/cobra"

// newCmdHSM groups the commands that change a cluster's HSM configuration.
func newCmdHSM(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "hsm",
		Short: "Move a cluster's HSM to Vault, and back",
	}
	c.AddCommand(newCmdHSMEnableVault(f, nil), newCmdHSMRollback(f, nil), newCmdHSMPurgeLocal(f, nil))
	return c
}
