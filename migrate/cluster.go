package migrate

import (
	"strings"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
)

// leaderOf returns the node that the cluster view calls leader.
func leaderOf(cs *kmsapi.ClusterStatus) (kmsapi.NodeStatus, bool) {
	for _, n := range cs.Up {
		if strings.EqualFold(n.Role, "Leader") {
			return n, true
		}
	}
	for _, n := range cs.Up {
		if n.LeaderID >= 0 {
			if l, ok := cs.Up[uint32(n.LeaderID)]; ok {
				return l, true
			}
		}
	}
	return kmsapi.NodeStatus{}, false
}

// findNode returns the cluster view's entry for the node with these
// addresses (inventory address, --host of MINIO_KMS_OPTS).
func findNode(cs *kmsapi.ClusterStatus, addrs []string) (kmsapi.NodeStatus, bool) {
	for _, n := range cs.Up {
		want := hostOnly(n.Host)
		for _, a := range addrs {
			if a != "" && strings.EqualFold(hostOnly(a), want) {
				return n, true
			}
		}
	}
	return kmsapi.NodeStatus{}, false
}
