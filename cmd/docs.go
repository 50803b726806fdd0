package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// docsDate is the date printed in man pages. It is fixed, not today, so that
// regenerating the docs changes nothing unless the commands changed.
var docsDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// DocsOptions are the inputs of `kmsctl docs`.
type DocsOptions struct {
	IO *IOStreams
	// Dir receives the Markdown files; man pages go to Dir/man.
	Dir string
	// Root is the command tree to document.
	Root *cobra.Command
}

func newCmdDocs(f *Factory, runF func(context.Context, *DocsOptions) error) *cobra.Command {
	opts := &DocsOptions{IO: f.IO}
	c := &cobra.Command{
		Use:    "docs",
		Short:  "Write the CLI reference (Markdown and man pages); for developers",
		Hidden: true,
		Long: `Write the CLI reference: one Markdown file per command into --dir (default
docs/cli) and man pages into --dir/man. Run it from the repository root after
changing a command; a test fails while the committed reference is stale.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotNoConfig: "true"},
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Root = c.Root()
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runDocs(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Dir, "dir", filepath.Join("docs", "cli"), "output directory")
	return c
}

func runDocs(_ context.Context, opts *DocsOptions) error {
	if err := writeDocs(opts.Root, opts.Dir); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s and %s\n", opts.Dir, filepath.Join(opts.Dir, "man"))
	return nil
}

// writeDocs generates the Markdown and man reference of root into dir.
func writeDocs(root *cobra.Command, dir string) error {
	manDir := filepath.Join(dir, "man")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	root.DisableAutoGenTag = true
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("docs: markdown: %w", err)
	}
	header := &doc.GenManHeader{Title: "KMSCTL", Section: "1", Date: &docsDate, Source: "kmsctl", Manual: "kmsctl manual"}
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return fmt.Errorf("docs: man: %w", err)
	}
	return nil
}
