// Package kmsapi speaks the small part of the AIStor Key Manager HTTP API that
// kmsctl needs (version, health, ClusterStatus), implemented from the
// protocol's public facts so that the product depends on no AGPL code.
package kmsapi

import "time"

// NodeStatus is one node's view of itself, from ClusterStatus.
type NodeStatus struct {
	ID       uint32        `json:"id"`
	Host     string        `json:"host"`
	Version  string        `json:"version"`
	Role     string        `json:"role"` // "Leader", "Follower" or "Candidate"
	LeaderID int64         `json:"leader_id"`
	Uptime   time.Duration `json:"uptime"`
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
