package migrate

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/envfile"
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
	if i := MatchNode(nodes, host); i >= 0 {
		return nodes[i].Name
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

// NodeAddrs lists every name the key manager's cluster view may use for a
// node: its inventory name, its address, the host of its API URL (unless
// loopback: every node's tunnel ends there) and the --host of its daemon
// options. Empty parts are left out.
func NodeAddrs(name, address, apiURL string, hosts ...string) []string {
	out := []string{}
	for _, a := range append([]string{name, address, apiHost(apiURL)}, hosts...) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func apiHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
		return ""
	}
	return h
}

// MatchNode is kmsctl's one node matcher: the index of the node one of
// whose addresses names the same host as hostPort (ports and case
// ignored), or -1. The gate, the restart order and `kmsctl status` use it.
func MatchNode(nodes []NodeAddr, hostPort string) int {
	for i, n := range nodes {
		if anySameHost(n.Addrs, hostPort) {
			return i
		}
	}
	return -1
}

// DaemonHost returns the --host value of the daemon's options
// (MINIO_KMS_OPTS in its env file), "" when not set.
func DaemonHost(env []byte) string {
	opts, ok, err := envfile.Value(env, "MINIO_KMS_OPTS")
	if err != nil || !ok {
		return ""
	}
	return optionValue(strings.Fields(opts), "--host")
}

// optionValue finds "--name value" or "--name=value" in args.
func optionValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
