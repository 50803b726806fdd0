package migrate

import (
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
)

// leaderOf returns the cluster's leader when the view is consistent (see
// kmsapi.ClusterStatus.Leader, which `kmsctl status` uses too).
func leaderOf(cs *kmsapi.ClusterStatus) (kmsapi.NodeStatus, bool) {
	id, ok := cs.Leader()
	if !ok {
		return kmsapi.NodeStatus{}, false
	}
	return cs.Up[id], true
}

// findNode returns the cluster view's entry for the node with these
// addresses (inventory address, --host of MINIO_KMS_OPTS).
func findNode(cs *kmsapi.ClusterStatus, addrs []string) (kmsapi.NodeStatus, bool) {
	for _, n := range cs.Up {
		if anySameHost(addrs, n.Host) {
			return n, true
		}
	}
	return kmsapi.NodeStatus{}, false
}
