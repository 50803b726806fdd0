package standin

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestVoteRules drives handleVote directly: a node with a live leader
// refuses pre-votes and votes (sticky leader); otherwise it grants one vote
// per term.
func TestVoteRules(t *testing.T) {
	auth := &peerAuth{rule: RuleShared, keys: []InterNodeKey{{HSM: "local", Key: []byte("k")}}}
	peers := map[uint32]string{1: "a", 2: "b", 3: "c"}
	tests := []struct {
		name     string
		leader   int64
		leaderAt time.Duration // how long ago the leader was heard
		votedFor int64
		req      peerMsg
		granted  bool
		term     uint64 // receiver's term afterwards
	}{
		{"pre-vote with live leader", 2, 100 * time.Millisecond, -1, peerMsg{From: 3, Term: 6, PreVote: true}, false, 5},
		{"pre-vote, leader silent", 2, 2 * time.Second, -1, peerMsg{From: 3, Term: 6, PreVote: true}, true, 5},
		{"pre-vote for an old term", -1, 0, -1, peerMsg{From: 3, Term: 5, PreVote: true}, false, 5},
		{"vote with live leader keeps the term", 2, 100 * time.Millisecond, -1, peerMsg{From: 3, Term: 6}, false, 5},
		{"vote, no leader", -1, 0, -1, peerMsg{From: 3, Term: 6}, true, 6},
		{"vote, already voted in this term", -1, 0, 2, peerMsg{From: 3, Term: 5}, false, 5},
		{"vote again for the same candidate", -1, 0, 3, peerMsg{From: 3, Term: 5}, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(1, peers, auth, nil, NodeStatus{}, discard)
			c.active.Store(true)
			c.term, c.leader, c.votedFor = 5, tt.leader, tt.votedFor
			c.lastLead = time.Now().Add(-tt.leaderAt)
			body, _ := auth.seal(tt.req)
			w := httptest.NewRecorder()
			c.handleVote(w, httptest.NewRequest(http.MethodPost, pathVote, bytes.NewReader(body)))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			reply, err := auth.open(w.Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if reply.Granted != tt.granted || c.term != tt.term || reply.Term != tt.term {
				t.Errorf("granted %v, term %d (reply %d); want %v, %d", reply.Granted, c.term, reply.Term, tt.granted, tt.term)
			}
		})
	}
}

func TestHeartbeatRules(t *testing.T) {
	auth := &peerAuth{rule: RuleShared, keys: []InterNodeKey{{HSM: "local", Key: []byte("k")}}}
	other := &peerAuth{rule: RuleShared, keys: []InterNodeKey{{HSM: "local", Key: []byte("other")}}}
	peers := map[uint32]string{1: "a", 2: "b", 3: "c"}
	tests := []struct {
		name      string
		sender    *peerAuth
		msg       peerMsg
		code      int
		role      string
		leader    int64
		term      uint64
		peerHeard bool
	}{
		{"leader of the current term", auth, peerMsg{From: 2, Term: 5, Status: NodeStatus{Role: RoleLeader}}, 200, RoleFollower, 2, 5, true},
		{"leader of a newer term", auth, peerMsg{From: 3, Term: 7, Status: NodeStatus{Role: RoleLeader}}, 200, RoleFollower, 3, 7, true},
		{"stale leader", auth, peerMsg{From: 2, Term: 4, Status: NodeStatus{Role: RoleLeader}}, 200, RoleLeader, 1, 5, true},
		{"follower", auth, peerMsg{From: 2, Term: 5, Status: NodeStatus{Role: RoleFollower}}, 200, RoleLeader, 1, 5, true},
		{"other inter-node key", other, peerMsg{From: 2, Term: 9, Status: NodeStatus{Role: RoleLeader}}, 403, RoleLeader, 1, 5, false},
		{"unknown node", auth, peerMsg{From: 9, Term: 9, Status: NodeStatus{Role: RoleLeader}}, 403, RoleLeader, 1, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(1, peers, auth, nil, NodeStatus{}, discard)
			c.active.Store(true)
			c.term, c.role, c.leader = 5, RoleLeader, 1
			body, _ := tt.sender.seal(tt.msg)
			w := httptest.NewRecorder()
			c.handleHeartbeat(w, httptest.NewRequest(http.MethodPost, pathHeartbeat, bytes.NewReader(body)))
			if w.Code != tt.code || c.role != tt.role || c.leader != tt.leader || c.term != tt.term {
				t.Errorf("code %d, role %s, leader %d, term %d", w.Code, c.role, c.leader, c.term)
			}
			if heard := !c.peer[2].heard.IsZero(); heard != tt.peerHeard && tt.msg.From == 2 {
				t.Errorf("peer 2 heard = %v", heard)
			}
		})
	}
}
