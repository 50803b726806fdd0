package cmd

import "github.com/spf13/cobra"

// newCmdVault groups the commands about the Vault side of a migration, so
// the operator can prove Vault is ready before `kmsctl hsm` touches a node.
func newCmdVault(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "vault",
		Short: "Check the Vault identity the nodes will use",
	}
	c.AddCommand(newCmdVaultCheck(f, nil))
	return c
}
