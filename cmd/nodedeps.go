package cmd

import (
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
}

func (f *Factory) nodeDeps() nodeDeps {
	return nodeDeps{
		IO: f.IO, Inventory: f.Inventory, Dialer: f.Dialer, DialerOptions: f.dialerOptions,
		NodeAPI: f.NodeAPI, APIKey: f.APIKey, Secrets: f.secretOptions(), Parallel: f.Global.Parallel,
	}
}
