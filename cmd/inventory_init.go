package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
)

// InventoryInitOptions are the inputs of `kmsctl inventory init`.
type InventoryInitOptions struct {
	IO *IOStreams
	// Out is the file to create; empty writes to stdout.
	Out string
	// Force overwrites an existing file.
	Force bool
}

func newCmdInventoryInit(f *Factory, runF func(context.Context, *InventoryInitOptions) error) *cobra.Command {
	opts := &InventoryInitOptions{IO: f.IO}
	c := &cobra.Command{
		Use:   "init",
		Short: "Write an annotated example inventory",
		Long: `Write the annotated example inventory (the one in docs/inventory.md) to
stdout, or to --out FILE. An existing file is kept unless --force is given.`,
		Example: "  kmsctl inventory init --out inventory.yaml",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runInventoryInit(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Out, "out", "", "file to write (default: stdout)")
	c.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing file")
	return c
}

func runInventoryInit(_ context.Context, opts *InventoryInitOptions) error {
	if opts.Out == "" {
		_, err := opts.IO.Out.Write(inventory.Example)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(opts.Out, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return usageError(fmt.Errorf("%s exists: pass --force to overwrite it", opts.Out))
	}
	if err != nil {
		return fmt.Errorf("inventory init: %w", err)
	}
	if _, err := file.Write(inventory.Example); err != nil {
		file.Close()
		return fmt.Errorf("inventory init: write %s: %w", opts.Out, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("inventory init: %w", err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s: edit it, then run `kmsctl inventory validate -i %s`\n", opts.Out, opts.Out)
	return nil
}
