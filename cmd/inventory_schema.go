package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
)

// InventorySchemaOptions are the inputs of `kmsctl inventory schema`.
type InventorySchemaOptions struct {
	IO *IOStreams
}

func newCmdInventorySchema(f *Factory, runF func(context.Context, *InventorySchemaOptions) error) *cobra.Command {
	opts := &InventorySchemaOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of inventory files (for editors)",
		Long: `Print the JSON Schema (draft 2020-12) of inventory files on stdout. Editors
with a YAML language server then complete and check inventories as you type:

  kmsctl inventory schema > ~/.config/kmsctl/inventory.schema.json

and, as the first line of an inventory:

  # yaml-language-server: $schema=~/.config/kmsctl/inventory.schema.json

The schema checks the shape (known keys, types); 'kmsctl inventory validate'
checks everything, values and local files included.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotNoConfig: "true"},
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runInventorySchema(c.Context(), opts)
		},
	}
}

func runInventorySchema(_ context.Context, opts *InventorySchemaOptions) error {
	b, err := inventory.Schema()
	if err != nil {
		return fmt.Errorf("inventory schema: %w", err)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s\n", b)
	return err
}
