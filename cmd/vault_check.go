package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
	"github.com/kmsctl/kmsctl/remote"
)

// vaultRequestTimeout caps each request to Vault: a Vault that drops
// traffic is reported after this long, not after the node --timeout.
const vaultRequestTimeout = 10 * time.Second

// VaultCheckOptions are the inputs of `kmsctl vault check`.
type VaultCheckOptions struct {
	// nodeDeps.Secrets reads the approle secret id and the local JWT file.
	nodeDeps
	// Getenv reads the VAULT_* variables the check honours.
	Getenv  func(string) string
	Output  string
	Timeout time.Duration
	// SkipNodes checks from the operator only (--skip-nodes).
	SkipNodes bool
	// Debugf prints --verbose details on stderr.
	Debugf func(format string, args ...any)
}

func newCmdVaultCheck(f *Factory, runF func(context.Context, *VaultCheckOptions) error) *cobra.Command {
	opts := &VaultCheckOptions{}
	c := &cobra.Command{
		Use:   "check -i FILE",
		Short: "Prove the nodes' Vault login, policy and transit key work, changing nothing",
		Long: `Check, before anything on a node changes, that the Vault settings of the
inventory's vault section work exactly as the nodes will use them:

  1. Vault is reachable from here: TLS verified (vault.ca_cert, VAULT_CACERT,
     VAULT_CAPATH or the system roots; never skipped), initialized, unsealed.
  2. Namespaces: a namespace on open-source Vault is a warning (ignored there).
  3. The login with the nodes' credentials (approle or kubernetes) works; the
     token's policies and TTL are shown.
  4. sys/capabilities-self grants update on <transit>/encrypt|decrypt|hmac/<key>;
     a missing one prints the policy stanza to add.
  5. A live round trip: encrypt 32 random bytes, decrypt and compare, HMAC,
     and the key's type when the policy lets it be read.
  6. From every node, over its SSH connection: Vault answers on the same
     address, with the TLS handshake verified against the same CA.

The approle secret id comes from vault.approle.secret_file or secret_env, or
is asked for on the terminal; the kubernetes JWT from vault.kubernetes.jwt_file,
or else from the jwt path on the first node. Nothing secret is ever printed.

Exit status 0 when no check failed (warnings and skipped checks do not fail),
3 when a check failed, 1 when the check could not run, 2 for a usage error
(see docs/vault-check.md and docs/exit-codes.md).`,
		Example: `  kmsctl vault check -i inventory.yaml
  kmsctl vault check -i inventory.yaml --skip-nodes
  kmsctl vault check -i inventory.yaml -o json | jq '.checks[] | select(.status == "fail")'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps, opts.Getenv, opts.Debugf = f.nodeDeps(), f.Getenv, f.Debugf
			opts.Output, opts.Timeout = f.Global.Output, f.Global.Timeout
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runVaultCheck(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.SkipNodes, "skip-nodes", false, "check from this host only, not from the nodes")
	return c
}

func runVaultCheck(ctx context.Context, opts *VaultCheckOptions) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	if inv.Vault == nil {
		return usageError(fmt.Errorf("%s: no vault section: add the Vault settings the nodes will use (see docs/inventory.md)", inv.File))
	}
	conns, err := connectForVaultCheck(ctx, opts, inv)
	if err != nil {
		return fmt.Errorf("vault check: %w", err)
	}
	defer closeAll(conns)
	vault, err := vaultSettings(inv, opts.Secrets)
	if err != nil {
		return fmt.Errorf("vault check: %w", err)
	}
	cfg, err := vaultCheckConfig(ctx, &hsmSession{inv: inv, conns: jwtSources(conns)}, vault, opts.Secrets)
	if err != nil {
		return fmt.Errorf("vault check: %w", err)
	}
	rep, err := vaultcheck.Run(ctx, cfg, conns, vaultcheck.Options{
		SkipNodes: opts.SkipNodes, Parallel: opts.Parallel,
		Timeout: min(opts.Timeout, vaultRequestTimeout), Getenv: opts.Getenv,
	})
	if err != nil {
		return fmt.Errorf("vault check: %w", err)
	}
	if err := writeVaultCheck(opts.IO, opts.Output, rep); err != nil {
		return err
	}
	if !rep.Passed() {
		return errSilentUnhealthy
	}
	return nil
}

// connectForVaultCheck opens the SSH connections the check needs: every
// node, or with --skip-nodes only the first one, and only when the
// kubernetes JWT must be read from it. A node that cannot be reached is a
// *vaultcheck.Unreachable, so its check fails by name instead of the run.
func connectForVaultCheck(ctx context.Context, opts *VaultCheckOptions, inv *inventory.Inventory) ([]remote.Node, error) {
	nodes := inv.Nodes()
	needJWT := inv.Vault.Kubernetes != nil && inv.Vault.Kubernetes.JWTFile == ""
	switch {
	case opts.SkipNodes && !needJWT:
		return nil, nil
	case opts.SkipNodes:
		nodes = nodes[:min(len(nodes), 1)]
	}
	dialer, err := opts.Dialer(opts.DialerOptions(nodes))
	if err != nil {
		return nil, err
	}
	return dialVaultCheckNodes(ctx, opts, dialer, nodes), nil
}

// dialVaultCheckNodes connects to the nodes, at most opts.Parallel at a
// time, each within opts.Timeout, keeping the inventory order.
func dialVaultCheckNodes(ctx context.Context, opts *VaultCheckOptions, dialer remote.Dialer, nodes []inventory.Node) []remote.Node {
	conns := make([]remote.Node, len(nodes))
	_ = remote.ForEach(nodes, opts.Parallel, func(i int, n inventory.Node) error {
		dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		conn, err := dialer.Dial(dctx, targetFor(n))
		if err != nil {
			if opts.Debugf != nil {
				opts.Debugf("node %s: %v", n.Name, err)
			}
			conn = &vaultcheck.Unreachable{NodeName: n.Name, Err: err}
		}
		conns[i] = conn
		return nil
	})
	return conns
}

// jwtSources are the nodes the kubernetes JWT may be read from, first one
// first: the reachable ones; when none is, the unreachable ones, so the
// error says why the token could not be read.
func jwtSources(conns []remote.Node) []remote.Node {
	var out []remote.Node
	for _, c := range conns {
		if _, bad := c.(*vaultcheck.Unreachable); !bad {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return conns
	}
	return out
}

func closeAll(conns []remote.Node) {
	for _, c := range conns {
		_ = c.Close()
	}
}
