// Package kmsapi speaks the small part of the AIStor Key Manager HTTP API that
// kmsctl needs (version, health, ClusterStatus), implemented from the
// protocol's public facts so that the product depends on no AGPL code.
package kmsapi

import (
	"time"
)

// NodeStatus is one node's view of itself, from ClusterStatus.
type NodeStatus struct {
	ID       uint32        `json:"id"`
	Host     string        `json:"host"`
	Version  string        `json:"version"`
	Role     string        `json:"role"` // "Leader", "Follower" or "Candidate"
	LeaderID int64         `json:"leader_id"`
	Uptime   time.Duration `json:"uptime"`
	// Nodes is the cluster membership this node knows (node ID -> address),
	// so a node that lost its peers can be told apart from one never told of them.
	Nodes map[uint32]string `json:"nodes,omitempty"`
	// HSM lists the HSMs holding a sealed root key entry for this node.
	HSM []string `json:"hsm"`
	// HSMActive lists the HSMs configured on this node.
	HSMActive []string `json:"hsm_active"`
}

// ClusterStatus is the cluster as one node sees it.
type ClusterStatus struct {
	Up   map[uint32]NodeStatus `json:"nodes_up"`
	Down map[uint32]string     `json:"nodes_down"`
}

// Role names a node reports, so callers compare against constants rather
// than retyping the server's spelling.
const (
	RoleLeader    = "Leader"
	RoleFollower  = "Follower"
	RoleCandidate = "Candidate"
)

// HasLeader reports whether this node knows a leader: the server sends a
// negative leader ID when it has none.
func (n NodeStatus) HasLeader() bool { return n.LeaderID >= 0 }

// Leader returns the cluster leader when the view is consistent: every node
// that is up names the same non-negative leader ID, and that node is itself
// up and reports the Leader role. Anything else (no node up, an election in
// progress, nodes disagreeing as in a split cluster) returns ok == false, which
// is what a rollout health gate must treat as "not healthy yet".
func (s *ClusterStatus) Leader() (id uint32, ok bool) {
	if s == nil || len(s.Up) == 0 {
		return 0, false
	}
	leader := int64(-1)
	for _, n := range s.Up {
		if !n.HasLeader() || (leader >= 0 && n.LeaderID != leader) {
			return 0, false
		}
		leader = n.LeaderID
	}
	if leader > int64(^uint32(0)) {
		return 0, false
	}
	l, found := s.Up[uint32(leader)]
	if !found || l.Role != RoleLeader {
		return 0, false
	}
	return uint32(leader), true
}
