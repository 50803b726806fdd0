package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// StatusOptions are the inputs of `kmsctl status`.
type StatusOptions struct {
	nodeDeps
	Now     func() time.Time
	Output  string
	Timeout time.Duration
	// Debugf prints --verbose details on stderr.
	Debugf func(format string, args ...any)
}

func newCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{}
	return &cobra.Command{
		Use:   "status -i FILE",
		Short: "Show every node's health, HSM state and the cluster view",
		Long: `Check every node of the inventory at once (at most --parallel at a time): SSH
login, sudo, the systemd unit (state, since when, restarts), the HSM state in
the node's files (local key in the env file, Vault block in the config), and
the key manager's version, liveness and readiness through the SSH tunnel.

With an API key (MINIO_KMS_API_KEY or --api-key-file) it also shows the
cluster view: each node's role, the leader, nodes up and down, and each node's
HSM entries.

Exit status 0 when every node is healthy, 3 when any is not (see
docs/exit-codes.md).`,
		Example: `  kmsctl status -i inventory.yaml
  MINIO_KMS_API_KEY=k1:... kmsctl status -i inventory.yaml -o json | jq .healthy`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps, opts.Now = f.nodeDeps(), f.Now
			opts.Output, opts.Timeout = f.Global.Output, f.Global.Timeout
			opts.Debugf = f.Debugf
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runStatus(c.Context(), opts)
		},
	}
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	key, err := opts.APIKey()
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	nodes := inv.Nodes()
	dialer, err := opts.Dialer(opts.DialerOptions(nodes))
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	probes := collectStatus(ctx, opts, dialer, nodes, key)
	rep := assembleStatus(inv.File, opts.Now().UTC(), nodes, probes)
	if err := writeStatus(opts.IO, opts.Output, rep, opts.Now()); err != nil {
		return err
	}
	if key == "" && opts.Output != outputJSON {
		fmt.Fprintln(opts.IO.ErrOut, "note: no API key (MINIO_KMS_API_KEY or --api-key-file): roles, leader and HSM entries are not shown")
	}
	if !rep.Healthy {
		return errSilentUnhealthy
	}
	return nil
}

// collectStatus probes every node, at most opts.Parallel at a time, each
// bounded by opts.Timeout.
func collectStatus(ctx context.Context, opts *StatusOptions, dialer remote.Dialer, nodes []inventory.Node, key string) []*probe {
	probes := make([]*probe, len(nodes))
	for i, n := range nodes {
		probes[i] = &probe{node: n, newAPI: opts.NodeAPI, apiKey: key, rep: NodeReport{Name: n.Name, Address: n.Address}}
	}
	_ = remote.ForEach(probes, opts.Parallel, func(_ int, p *probe) error {
		nctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		start := time.Now()
		probeNode(nctx, dialer, p)
		if opts.Debugf != nil {
			opts.Debugf("node %s: probed in %s", p.node.Name, time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
	return probes
}

// probeNode connects to one node and runs its probe.
func probeNode(ctx context.Context, dialer remote.Dialer, p *probe) {
	conn, err := dialer.Dial(ctx, targetFor(p.node))
	if err != nil {
		p.rep.SSH = SSHReport{Error: err.Error()}
		return
	}
	defer conn.Close()
	p.rep.SSH.Reachable = true
	p.conn = conn
	p.run(ctx)
}

// assembleStatus judges every node and the cluster into one report.
func assembleStatus(file string, now time.Time, nodes []inventory.Node, probes []*probe) *StatusReport {
	rep := &StatusReport{Schema: statusSchema, Inventory: file, CheckedAt: now, Problems: []string{}, Warnings: []string{}}
	views := make([]*kmsapi.ClusterStatus, len(probes))
	addrs := make([]migrate.NodeAddr, len(probes))
	records := make([]*migrate.HSMNames, len(probes))
	for i, p := range probes {
		judgeNode(&p.rep)
		rep.Nodes = append(rep.Nodes, p.rep)
		views[i], records[i] = p.cluster, p.hsmRecord
		addrs[i] = migrate.NodeAddr{Name: nodes[i].Name, Addrs: migrate.NodeAddrs(nodes[i].Name, nodes[i].Address, nodes[i].API, p.host)}
	}
	cv, problems := buildCluster(addrs, rep.Nodes, views)
	nameHSMs(rep.Nodes, records)
	rep.Cluster = cv
	rep.Problems = append(rep.Problems, problems...)
	rep.Warnings = append(rep.Warnings, clusterWarnings(cv)...)
	rep.Healthy = len(rep.Problems) == 0
	for i := range rep.Nodes {
		r := &rep.Nodes[i]
		r.Healthy = len(r.Problems) == 0
		if r.Problems == nil {
			r.Problems = []string{}
		}
		rep.Healthy = rep.Healthy && r.Healthy
	}
	return rep
}
