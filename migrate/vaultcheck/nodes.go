package vaultcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"github.com/kmsctl/kmsctl/remote"
)

// checkNodes is step 5: from every node, through its SSH connection, Vault
// answers on the same address with a TLS handshake verified against the same
// CA and server name. Nodes are checked concurrently (bounded); the report
// keeps the inventory order.
func (run *runner) checkNodes(ctx context.Context, nodes []remote.Node, skip bool) {
	const id, title = "node.vault", "Vault reachable from the nodes"
	switch {
	case skip:
		run.report.add(skipped(id, title, "--skip-nodes"))
		return
	case len(nodes) == 0:
		run.report.add(skipped(id, title, "no nodes given"))
		return
	}
	results := make([]Check, len(nodes))
	_ = remote.ForEach(nodes, run.r.parallelism, func(i int, n remote.Node) error {
		results[i] = run.checkNode(ctx, n)
		return nil
	})
	for _, c := range results {
		run.report.add(c)
	}
}

// checkNode checks one node.
func (run *runner) checkNode(ctx context.Context, n remote.Node) Check {
	c := Check{ID: "node.vault", Title: "Vault reachable from " + n.Name(), Node: n.Name()}
	if u, ok := n.(*Unreachable); ok {
		return unreachableCheck(c, u)
	}
	if run.u == nil || run.tlsConf == nil {
		return skippedRT(c, "the Vault address or CA could not be loaded (see vault.reachable)")
	}
	addr := run.u.hostPort
	c.Details = map[string]string{"address": addr}
	ctx, cancel := context.WithTimeout(ctx, run.r.nodeTimeout)
	defer cancel()
	conn, err := n.DialTCP(ctx, addr)
	if err != nil {
		p := nodeConnErr(err, addr, n.Name())
		return failed(c, fmt.Sprintf("node %s cannot reach Vault at %s: %s", n.Name(), addr, p.cause), p.fix)
	}
	defer conn.Close()
	if run.u.useTLS {
		tc := tls.Client(conn, run.tlsConf.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			p := nodeConnErr(err, addr, n.Name())
			return failed(c, fmt.Sprintf("node %s: TLS handshake with Vault at %s failed: %s", n.Name(), addr, p.cause), p.fix)
		}
		conn = net.Conn(tc)
	}
	h, err := healthOverConn(ctx, conn, run.u)
	if err != nil {
		p := nodeConnErr(err, addr, n.Name())
		return failed(c, fmt.Sprintf("node %s: Vault at %s did not answer sys/health: %s", n.Name(), addr, p.cause), p.fix)
	}
	c.Details["version"] = h.body.Version
	c.Details["sealed"] = fmt.Sprint(h.body.Sealed)
	if p := h.problem(addr); p != "" {
		return failed(c, fmt.Sprintf("node %s: %s", n.Name(), p), "unseal Vault, then run the check again")
	}
	how := "TLS verified"
	if !run.u.useTLS {
		how = "plain HTTP"
	}
	c.Status, c.Message = Pass, fmt.Sprintf("node %s reaches Vault at %s: %s, %s", n.Name(), addr, how, h.state())
	return c
}

// nodeConnErr is describeConnErr with the fix naming the node instead of
// "this host", so the operator knows where to look.
func nodeConnErr(err error, addr, node string) connProblem {
	p := describeConnErr(err, addr)
	p.fix = strings.ReplaceAll(p.fix, "this host", "node "+node)
	return p
}
