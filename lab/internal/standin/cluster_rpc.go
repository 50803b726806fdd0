package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Inter-node endpoints (lab only).
const (
	pathHeartbeat = "/lab/v1/heartbeat"
	pathVote      = "/lab/v1/vote"
)

// peerMsg is a heartbeat or vote request or reply.
type peerMsg struct {
	From    uint32     `json:"from"`
	Term    uint64     `json:"term"`
	Status  NodeStatus `json:"status"`
	PreVote bool       `json:"pre_vote,omitempty"`
	Granted bool       `json:"granted,omitempty"`
}

// broadcast sends a heartbeat to every peer that has none in flight.
func (c *Cluster) broadcast(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.peer {
		if !p.inflight {
			p.inflight = true
			go c.heartbeat(ctx, id)
		}
	}
}

func (c *Cluster) heartbeat(ctx context.Context, id uint32) {
	c.mu.Lock()
	msg := c.message(time.Now())
	c.mu.Unlock()
	reply, err := c.post(ctx, id, pathHeartbeat, msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.peer[id]
	p.inflight = false
	if errors.Is(err, errKeyMismatch) && !p.rejects {
		p.rejects = true
		c.logf("cluster: node %d (%s) does not share an inter-node key (this node uses %s)", id, c.peers[id], c.auth.names())
	}
	if err != nil {
		return
	}
	p.rejects = false
	c.observe(reply, time.Now())
}

// elect runs a pre-vote and, when a majority would vote, a real election.
func (c *Cluster) elect(ctx context.Context) {
	defer func() {
		c.mu.Lock()
		c.electing = false
		c.mu.Unlock()
	}()
	c.mu.Lock()
	proposed := c.term + 1
	c.mu.Unlock()
	if c.requestVotes(ctx, proposed, true)+1 < c.majority() {
		c.mu.Lock()
		c.resetDeadline(time.Now())
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	if c.term >= proposed || c.hasLiveLeader(time.Now()) {
		c.mu.Unlock()
		return
	}
	c.term, c.votedFor, c.role, c.leader = proposed, int64(c.self), RoleCandidate, -1
	c.mu.Unlock()
	votes := c.requestVotes(ctx, proposed, false) + 1
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.role != RoleCandidate || c.term != proposed || votes < c.majority() {
		c.resetDeadline(now)
		return
	}
	c.role, c.leader, c.lastLead = RoleLeader, int64(c.self), now
	c.logf("cluster: elected leader (term %d, %d of %d votes)", proposed, votes, len(c.peers))
	for id, p := range c.peer {
		if !p.inflight {
			p.inflight = true
			go c.heartbeat(ctx, id)
		}
	}
}

// requestVotes asks every peer for a (pre-)vote for term and counts grants.
func (c *Cluster) requestVotes(ctx context.Context, term uint64, pre bool) int {
	c.mu.Lock()
	msg := c.message(time.Now())
	c.mu.Unlock()
	msg.Term, msg.PreVote = term, pre
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for id := range c.peer {
		wg.Go(func() {
			reply, err := c.post(ctx, id, pathVote, msg)
			if err != nil {
				return
			}
			c.mu.Lock()
			c.seen(reply, time.Now())
			if !pre && reply.Term > c.term {
				c.adoptTerm(reply.Term)
			}
			c.mu.Unlock()
			if reply.Granted {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return granted
}

// post sends a sealed message to a peer and opens its sealed reply.
func (c *Cluster) post(ctx context.Context, id uint32, path string, m peerMsg) (peerMsg, error) {
	var reply peerMsg
	err := c.exchange(ctx, id, path, peerTimeout, m, &reply)
	if err == nil && reply.From != id {
		err = fmt.Errorf("node %d answered as node %d", id, reply.From)
	}
	return reply, err
}

// exchange sends in, sealed, to a peer and opens its sealed reply into out.
func (c *Cluster) exchange(ctx context.Context, id uint32, path string, timeout time.Duration, in, out any) error {
	body, err := c.auth.seal(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+c.peers[id]+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return errKeyMismatch
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("node %d: %s", id, resp.Status)
	}
	return c.auth.openInto(data, out)
}

// receive opens a peer's request; it answers errors itself and returns false.
func (c *Cluster) receive(w http.ResponseWriter, r *http.Request) (peerMsg, bool) {
	var m peerMsg
	ok := c.receiveInto(w, r, &m, func() uint32 { return m.From })
	return m, ok
}

// receiveInto opens a peer's request into v; from names its sender, who
// must be a peer. It answers errors itself and returns false.
func (c *Cluster) receiveInto(w http.ResponseWriter, r *http.Request, v any, from func() uint32) bool {
	if !c.active.Load() {
		writeError(w, http.StatusServiceUnavailable, "node is starting")
		return false
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body")
		return false
	}
	err = c.auth.openInto(data, v)
	if err == nil {
		if _, ok := c.peer[from()]; !ok {
			err = fmt.Errorf("unknown node %d", from())
		}
	}
	if err != nil {
		writeError(w, http.StatusForbidden, err.Error())
		return false
	}
	return true
}

// handleHeartbeat answers a peer's heartbeat with this node's own.
func (c *Cluster) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	m, ok := c.receive(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	now := time.Now()
	c.observe(m, now)
	reply := c.message(now)
	c.mu.Unlock()
	c.reply(w, reply)
}

// handleVote answers a pre-vote or vote request. A node with a live leader
// refuses both, so that a leader stays in office while it is alive.
func (c *Cluster) handleVote(w http.ResponseWriter, r *http.Request) {
	m, ok := c.receive(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	now := time.Now()
	c.seen(m, now)
	live := c.hasLiveLeader(now)
	granted := false
	switch {
	case m.PreVote:
		granted = m.Term > c.term && !live
	case live:
	default:
		if m.Term > c.term {
			c.adoptTerm(m.Term)
		}
		if m.Term == c.term && (c.votedFor < 0 || c.votedFor == int64(m.From)) {
			c.votedFor, granted = int64(m.From), true
			c.resetDeadline(now)
		}
	}
	reply := c.message(now)
	reply.Granted = granted
	c.mu.Unlock()
	c.reply(w, reply)
}

func (c *Cluster) reply(w http.ResponseWriter, m any) {
	body, err := c.auth.seal(m)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// writeError answers with the JSON error body kms-go's client reads.
func writeError(w http.ResponseWriter, code int, msg string) {
	body, _ := json.Marshal(map[string]string{"message": msg})
	writeBody(w, code, "application/json", body)
}

// writeBody answers with an explicit Content-Length, which kms-go requires.
func writeBody(w http.ResponseWriter, code int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
