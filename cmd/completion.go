package cmd

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
)

// registerCompletions completes flag values in the shell: -o, --stage2,
// --vault-block, --limit (node names of the -i inventory) and --run (the
// runs in the run logs), so operators need not remember them.
func registerCompletions(root *cobra.Command, getenv func(string) string) {
	fixed := func(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc(flagOutput, fixed(outputTable, outputJSON))
	walk(root, func(c *cobra.Command) {
		set := func(flag string, f func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)) {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, f)
			}
		}
		set("stage2", fixed(string(migrate.Stage2Rolling), string(migrate.Stage2Together)))
		set("vault-block", fixed(inventory.VaultBlockHashiCorp, inventory.VaultBlockShort))
		set("limit", completeNodes(getenv))
		set("run", completeRuns(getenv))
	})
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// completeNodes lists the node names of the inventory given with -i (or
// KMSCTL_INVENTORY).
func completeNodes(getenv func(string) string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return inventoryNodeNames(c, getenv)
	}
}

func inventoryNodeNames(c *cobra.Command, getenv func(string) string) ([]string, cobra.ShellCompDirective) {
	path, _ := c.Flags().GetString(flagInventory)
	if path == "" {
		path = getenv(envName(flagInventory))
	}
	inv, err := inventory.Load(path)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, n := range inv.Nodes() {
		names = append(names, n.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeRuns lists the run ids of the run logs, newest first.
func completeRuns(getenv func(string) string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return runIDs(stateDir(getenv))
	}
}

func runIDs(dir string) ([]string, cobra.ShellCompDirective) {
	logs, _ := filepath.Glob(filepath.Join(dir, "runs", "*.jsonl"))
	var runs []string
	for _, l := range logs {
		id := strings.TrimSuffix(filepath.Base(l), ".jsonl")
		if !strings.HasSuffix(id, "-rollback") {
			runs = append(runs, id)
		}
	}
	slices.Sort(runs)
	slices.Reverse(runs)
	return runs, cobra.ShellCompDirectiveNoFileComp
}
