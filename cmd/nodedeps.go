package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// nodeDeps are the dependencies of every command that talks to the nodes
// (status, vault check, the hsm commands), filled from the Factory in one place.
type nodeDeps struct {
	IO            *IOStreams
	Inventory     func() (*inventory.Inventory, error)
	Dialer        func(DialerOptions) (remote.Dialer, error)
	DialerOptions func(nodes []inventory.Node) DialerOptions
	NodeAPI       func(dial kmsapi.DialFunc, apiURL string, opts kmsapi.Options) (NodeAPI, error)
	APIKey        func() (string, error)
	Secrets       inventory.SecretOptions
	Parallel      int
	// Limit is --limit: the nodes to work on (all when empty).
	Limit []string
}

func (f *Factory) nodeDeps() nodeDeps {
	return nodeDeps{
		IO: f.IO, Inventory: f.Inventory, Dialer: f.Dialer, DialerOptions: f.dialerOptions,
		NodeAPI: f.NodeAPI, APIKey: f.APIKey, Secrets: f.secretOptions(), Parallel: f.Global.Parallel,
	}
}

// addLimitFlag adds --limit to a read-only command (status, vault check):
// the operator looks at some nodes without editing the inventory.
func addLimitFlag(c *cobra.Command) *[]string {
	var names []string
	c.Flags().StringSliceVar(&names, "limit", nil, "only these nodes: NAME[,NAME] as named in the inventory")
	return &names
}

// selectNodes returns the inventory's nodes, or with --limit only those
// named, in inventory order. An unknown name is a usage error with the
// closest names.
func (d nodeDeps) selectNodes(inv *inventory.Inventory) ([]inventory.Node, error) {
	all := inv.Nodes()
	if len(d.Limit) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range d.Limit {
		want[n] = true
	}
	var out []inventory.Node
	for _, n := range all {
		if want[n.Name] {
			out = append(out, n)
			delete(want, n.Name)
		}
	}
	for _, name := range d.Limit {
		if want[name] {
			return nil, usageError(fmt.Errorf("--limit %s: no such node in %s (nodes: %s)", name, inv.File, nodeNames(all)))
		}
	}
	return out, nil
}

func nodeNames(nodes []inventory.Node) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}
