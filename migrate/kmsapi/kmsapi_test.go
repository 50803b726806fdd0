package kmsapi

import "testing"

func TestLeader(t *testing.T) {
	leader := NodeStatus{ID: 1, Role: RoleLeader, LeaderID: 1}
	follower := func(id uint32, l int64) NodeStatus { return NodeStatus{ID: id, Role: RoleFollower, LeaderID: l} }
	tests := []struct {
		name   string
		s      *ClusterStatus
		wantID uint32
		wantOK bool
	}{
		{"nil", nil, 0, false},
		{"nothing up", &ClusterStatus{}, 0, false},
		{"agreed leader", &ClusterStatus{Up: map[uint32]NodeStatus{1: leader, 2: follower(2, 1), 3: follower(3, 1)}}, 1, true},
		{"leader id zero", &ClusterStatus{Up: map[uint32]NodeStatus{0: {Role: RoleLeader}, 2: follower(2, 0)}}, 0, true},
		{"follower without leader", &ClusterStatus{Up: map[uint32]NodeStatus{1: leader, 2: follower(2, -1)}}, 0, false},
		{"disagreement", &ClusterStatus{Up: map[uint32]NodeStatus{1: leader, 2: follower(2, 3)}}, 0, false},
		{"named leader is down", &ClusterStatus{Up: map[uint32]NodeStatus{2: follower(2, 1)}, Down: map[uint32]string{1: "x"}}, 0, false},
		{"named leader not in leader role", &ClusterStatus{Up: map[uint32]NodeStatus{1: {ID: 1, Role: RoleCandidate, LeaderID: 1}}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := tt.s.Leader()
			if id != tt.wantID || ok != tt.wantOK {
				t.Fatalf("Leader() = %d, %v; want %d, %v", id, ok, tt.wantID, tt.wantOK)
			}
		})
	}
}
