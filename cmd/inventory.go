package cmd

import "github.com/spf13/cobra"

// newCmdInventory groups the commands that write and check inventory files.
func newCmdInventory(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Write and check inventory files",
		Long: `An inventory lists the key manager nodes, how to reach them over SSH, where
their files live, and the Vault transit key they should seal with. The format
is described in docs/inventory.md.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newCmdInventoryInit(f, nil), newCmdInventoryValidate(f, nil), newCmdInventorySchema(f, nil))
	return c
}
