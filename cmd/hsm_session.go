package cmd

import (
	"context"
	"fmt"
	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// hsmSession is one connection to every node of the inventory, reused by
// every step of a run.
type hsmSession struct {
	inv     *inventory.Inventory
	nodes   []inventory.Node
	conns   []remote.Node
	targets []*migrate.Target
	apiKey  string
	apis    []NodeAPI
}

// openSession loads the inventory, connects to every node (at most
// Parallel at a time) and prepares each node's API client through its
// tunnel. Any node that cannot be reached fails the session: a rollout
// never starts on a partial cluster.
func openSession(ctx context.Context, d nodeDeps) (*hsmSession, error) {
	inv, err := d.Inventory()
	if err != nil {
		return nil, err
	}
	s := &hsmSession{inv: inv, nodes: inv.Nodes()}
	if s.apiKey, err = d.APIKey(); err != nil {
		return nil, err
	}
	dialer, err := d.Dialer(d.DialerOptions(s.nodes))
	if err != nil {
		return nil, err
	}
	if err := s.dialAll(ctx, dialer, max(d.Parallel, 1)); err != nil {
		s.Close()
		return nil, err
	}
	for i, n := range s.nodes {
		api, err := apiClientFor(d.NodeAPI, s.conns[i], n, s.apiKey)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		s.apis = append(s.apis, api)
		s.targets = append(s.targets, &migrate.Target{
			Name: n.Name, Node: s.conns[i], API: keyedAPI{api, s.apiKey != ""},
			ConfigPath: n.Config, EnvPath: n.EnvFile, Unit: n.Unit, BackupDir: n.BackupDir,
			Addrs: migrate.NodeAddrs(n.Name, n.Address, n.API, ""), ConfigSet: n.ConfigSet, EnvSet: n.EnvFileSet,
		})
	}
	return s, nil
}

func (s *hsmSession) dialAll(ctx context.Context, dialer remote.Dialer, parallel int) error {
	s.conns = make([]remote.Node, len(s.nodes))
	return remote.ForEach(s.nodes, parallel, func(i int, n inventory.Node) (err error) {
		s.conns[i], err = dialer.Dial(ctx, targetFor(n))
		return err
	})
}

// Close ends every connection.
func (s *hsmSession) Close() {
	for _, a := range s.apis {
		a.Close()
	}
	for _, c := range s.conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// keyedAPI makes ClusterStatus say clearly that no API key was given.
type keyedAPI struct {
	NodeAPI
	hasKey bool
}

func (k keyedAPI) ClusterStatus(ctx context.Context) (*kmsapi.ClusterStatus, error) {
	if !k.hasKey {
		return nil, migrate.ErrNoAPIKey
	}
	return k.NodeAPI.ClusterStatus(ctx)
}

// desiredFrom turns the Vault settings of the run (vaultSettings) and the
// command's flags into what every node should end with.
func desiredFrom(inv *inventory.Inventory, vault configedit.VaultSettings, stage2, block string, keepLocal bool) (migrate.Desired, error) {
	d := migrate.Desired{Vault: vault, KeepLocalHSM: keepLocal, Stage2: migrate.Stage2Strategy(stage2)}
	if block == "" && len(inv.Nodes()) > 0 {
		block = inv.Nodes()[0].VaultBlock // node_defaults.vault_block
	}
	if block == "" {
		block = inventory.VaultBlockHashiCorp
	}
	bp, err := configedit.ParseBlockPath(block)
	if err != nil {
		return d, usageError(fmt.Errorf("--vault-block: %w", err))
	}
	d.Prefer = bp
	return d, nil
}

// vaultSettings maps the inventory's vault section onto the one settings
// type, the block every node gets and the Vault check tests. It is the only
// place the approle secret is read (its file, variable or a prompt; never a
// flag): a run calls it once and hands the result to the check and the
// rollout, so the operator is asked at most once.
func vaultSettings(inv *inventory.Inventory, secrets inventory.SecretOptions) (configedit.VaultSettings, error) {
	v := inv.Vault
	if v == nil {
		return configedit.VaultSettings{}, usageError(fmt.Errorf("%s: no vault section: add the Vault settings the nodes will use (see docs/inventory.md)", inv.File))
	}
	s := configedit.VaultSettings{
		Server:  v.Server,
		Transit: configedit.Transit{Key: v.Transit.Key, Path: v.Transit.Path, Namespace: v.Transit.Namespace},
	}
	switch {
	case v.AppRole != nil:
		secret, err := v.AppRole.Secret().Read(secrets)
		if err != nil {
			return s, err
		}
		s.AppRole = &configedit.AppRole{ID: v.AppRole.ID, Secret: string(secret), Path: v.AppRole.Path, Namespace: v.AppRole.Namespace}
	case v.Kubernetes != nil:
		k := v.Kubernetes
		s.Kubernetes = &configedit.Kubernetes{Role: k.Role, JWT: k.JWT, Path: k.Path, Namespace: k.Namespace}
	}
	return s, nil
}
