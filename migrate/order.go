package migrate

import (
	"net"
	"strings"
)

// OrderSource says where a restart order came from, so the plan can tell the
// operator how much to trust it.
type OrderSource string

const (
	// OrderFromCluster means the leader was found in the key manager's own
	// cluster view and is restarted last.
	OrderFromCluster OrderSource = "cluster"
	// OrderFromInventory means no cluster view was available (no API key):
	// nodes are restarted in inventory order.
	OrderFromInventory OrderSource = "inventory"
)

// NodeAddr ties an inventory node to the addresses the key manager may use
// for it in its cluster view.
type NodeAddr struct {
	Name string
	// Addrs are host names or IPs (with or without port): the inventory
	// address and the --host value of the node's MINIO_KMS_OPTS.
	Addrs []string
}

// RestartOrder puts followers first, in inventory order, and the leader last.
// Restarting the leader last costs one election instead of one per step, as
// Vault's own seal migration guide advises. leaderHost is the leader's address
// from the cluster view ("" when unknown); when it matches no node the
// inventory order is returned with OrderFromInventory.
func RestartOrder(nodes []NodeAddr, leaderHost string) ([]string, OrderSource, string) {
	order := make([]string, 0, len(nodes))
	leader := ""
	if leaderHost != "" {
		leader = matchHost(nodes, leaderHost)
	}
	for _, n := range nodes {
		if n.Name != leader {
			order = append(order, n.Name)
		}
	}
	if leader == "" {
		return order, OrderFromInventory, ""
	}
	return append(order, leader), OrderFromCluster, leader
}

// matchHost returns the name of the node one of whose addresses is host.
func matchHost(nodes []NodeAddr, host string) string {
	for _, n := range nodes {
		if anySameHost(n.Addrs, host) {
			return n.Name
		}
	}
	return ""
}

// anySameHost reports whether one of addrs names the same host as host,
// ignoring ports and case: the cluster view says "10.0.0.11:7373" where the
// inventory says "10.0.0.11".
func anySameHost(addrs []string, host string) bool {
	want := hostOnly(host)
	for _, a := range addrs {
		if a != "" && strings.EqualFold(hostOnly(a), want) {
			return true
		}
	}
	return false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
