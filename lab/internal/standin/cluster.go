package standin

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Cluster timings: a 3-node cluster elects a leader within about 1.5 s of all
// nodes being up, and a silent peer is shown down after downAfter.
const (
	heartbeatInterval  = 200 * time.Millisecond
	electionTimeoutMin = 800 * time.Millisecond
	electionTimeoutMax = 1400 * time.Millisecond
	leaderLease        = time.Second // a leader without quorum contact this long steps down
	downAfter          = 2 * time.Second
	peerTimeout        = 500 * time.Millisecond
	tickInterval       = 50 * time.Millisecond
)

// Roles as reported in ServerStatusResponse.role.
const (
	RoleLeader    = "Leader"
	RoleFollower  = "Follower"
	RoleCandidate = "Candidate"
)

// Cluster is a node's view of its peers: a Raft-like election (terms, votes,
// majority, pre-votes so that a returning node cannot depose a live leader)
// driven by heartbeats that every node sends to every peer.
type Cluster struct {
	self   uint32
	peers  map[uint32]string // all nodes, self included
	auth   *peerAuth
	client *http.Client
	logf   func(string, ...any)
	local  NodeStatus // static part of this node's status
	start  time.Time
	active atomic.Bool // false until slow-start is over

	mu       sync.Mutex
	term     uint64
	votedFor int64 // -1: none in this term
	role     string
	leader   int64 // -1: none
	lastLead time.Time
	deadline time.Time
	electing bool
	peer     map[uint32]*peerState
}

// peerState is what this node knows about one peer.
type peerState struct {
	heard    time.Time  // last authenticated message from or reply by the peer
	status   NodeStatus // status carried by that message
	inflight bool       // a heartbeat to the peer is in progress
	shownUp  bool       // last logged state
	rejects  bool       // the peer rejects our inter-node key (logged once)
}

// newCluster prepares the cluster state; local carries version, host and HSM
// lists of this node.
func newCluster(self uint32, peers map[uint32]string, auth *peerAuth, client *http.Client, local NodeStatus, logf func(string, ...any)) *Cluster {
	c := &Cluster{
		self: self, peers: peers, auth: auth, client: client, logf: logf,
		local: local, start: time.Now(), votedFor: -1, role: RoleFollower, leader: -1,
		peer: map[uint32]*peerState{},
	}
	c.local.Nodes = peers
	c.local.ID = self
	for id := range peers {
		if id != self {
			c.peer[id] = &peerState{}
		}
	}
	return c
}

// Run takes part in the cluster until ctx ends.
func (c *Cluster) Run(ctx context.Context) {
	c.mu.Lock()
	c.resetDeadline(time.Now())
	c.mu.Unlock()
	c.active.Store(true)
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	var lastBeat time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			if now.Sub(lastBeat) >= heartbeatInterval {
				c.broadcast(ctx)
				lastBeat = now
			}
			c.tick(ctx, now)
		}
	}
}

func (c *Cluster) majority() int { return len(c.peers)/2 + 1 }

func (c *Cluster) resetDeadline(now time.Time) {
	spread := int64(electionTimeoutMax - electionTimeoutMin)
	c.deadline = now.Add(electionTimeoutMin + time.Duration(rand.Int64N(spread)))
}

// upWithin counts this node and the peers heard from within d.
func (c *Cluster) upWithin(now time.Time, d time.Duration) int {
	n := 1
	for _, p := range c.peer {
		if now.Sub(p.heard) < d {
			n++
		}
	}
	return n
}

// hasLiveLeader reports whether this node knows a leader that is alive; such
// a node refuses votes, which keeps the leader sticky.
func (c *Cluster) hasLiveLeader(now time.Time) bool {
	return c.role == RoleLeader || (c.leader >= 0 && now.Sub(c.lastLead) < electionTimeoutMin)
}

// currentLeader is the leader id to report, -1 when none is known.
func (c *Cluster) currentLeader(now time.Time) int64 {
	if c.role == RoleLeader || (c.leader >= 0 && now.Sub(c.lastLead) < downAfter) {
		return c.leader
	}
	return -1
}

func (c *Cluster) tick(ctx context.Context, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logPeerChanges(now)
	if c.role == RoleLeader && c.upWithin(now, leaderLease) < c.majority() {
		c.logf("cluster: lost contact with a majority, stepping down (term %d)", c.term)
		c.role, c.leader = RoleFollower, -1
		c.resetDeadline(now)
	}
	if c.role != RoleLeader && !c.electing && now.After(c.deadline) {
		c.electing = true
		go c.elect(ctx)
	}
}

func (c *Cluster) logPeerChanges(now time.Time) {
	for id, p := range c.peer {
		up := now.Sub(p.heard) < downAfter
		if up != p.shownUp {
			p.shownUp = up
			state := "down"
			if up {
				state = "up"
			}
			c.logf("cluster: node %d (%s) is %s", id, c.peers[id], state)
		}
	}
}

// selfStatus is this node's ServerStatusResponse; c.mu is held.
func (c *Cluster) selfStatus(now time.Time) NodeStatus {
	s := c.local
	s.Uptime = now.Sub(c.start)
	s.Role = c.role
	s.LeaderID = c.currentLeader(now)
	return s
}

func (c *Cluster) message(now time.Time) peerMsg {
	return peerMsg{From: c.self, Term: c.term, Status: c.selfStatus(now)}
}

// seen records an authenticated message from a peer; c.mu is held.
func (c *Cluster) seen(m peerMsg, now time.Time) {
	p := c.peer[m.From]
	p.heard, p.status = now, m.Status
}

// observe applies the term and leader carried by a heartbeat; c.mu is held.
func (c *Cluster) observe(m peerMsg, now time.Time) {
	c.seen(m, now)
	if m.Term > c.term {
		c.adoptTerm(m.Term)
	}
	if m.Status.Role != RoleLeader || m.Term != c.term {
		return
	}
	if c.role != RoleFollower || c.leader != int64(m.From) {
		c.logf("cluster: following leader %d (term %d)", m.From, m.Term)
	}
	c.role, c.leader, c.lastLead = RoleFollower, int64(m.From), now
	c.resetDeadline(now)
}

// adoptTerm moves to a newer term as a follower without a leader.
func (c *Cluster) adoptTerm(term uint64) {
	if c.role == RoleLeader {
		c.logf("cluster: newer term %d seen, stepping down", term)
	}
	c.term, c.votedFor, c.role, c.leader = term, -1, RoleFollower, -1
}

// Ready reports whether the node is in a quorum with a leader, and if not why.
func (c *Cluster) Ready(all bool) (bool, string) {
	if !c.active.Load() {
		return false, "starting"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	up := c.upWithin(now, downAfter)
	if up < c.majority() || (all && up < len(c.peers)) {
		return false, "not enough nodes reachable"
	}
	if c.currentLeader(now) < 0 {
		return false, "no cluster leader"
	}
	return true, ""
}

// Status is the ClusterStatus answer: peers heard from within downAfter are
// up (with the status they last sent), the others down.
func (c *Cluster) Status() ClusterStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	cs := ClusterStatus{NodesUp: map[uint32]NodeStatus{c.self: c.selfStatus(now)}, NodesDown: map[uint32]string{}}
	for id, p := range c.peer {
		if now.Sub(p.heard) >= downAfter {
			cs.NodesDown[id] = c.peers[id]
			continue
		}
		s := p.status
		s.Uptime += now.Sub(p.heard)
		cs.NodesUp[id] = s
	}
	return cs
}
