package standin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Inter-node write endpoints (lab only): a node forwards a client's write to
// the leader (submit), and the leader applies it on every peer (apply).
const (
	pathSubmit = "/lab/v1/submit"
	pathApply  = "/lab/v1/apply"
)

// writeTimeout bounds one inter-node write (an apply may call Vault).
const writeTimeout = 10 * time.Second

// writeResult is the sealed answer to a submit or apply.
type writeResult struct {
	From    uint32 `json:"from"`
	Code    int    `json:"code"` // 0: done
	Message string `json:"message,omitempty"`
}

// writer is a node's cluster write path: every write needs every node up,
// goes through the leader, which applies it to itself and then to each peer.
type writer struct {
	cluster *Cluster
	store   *store
	logf    func(string, ...any)
	mu      sync.Mutex // the leader applies one write at a time
	// confirmed are the enclaves and keys this leader created on, or
	// brought to, every node (write_confirm.go); guarded by mu.
	confirmed map[string]bool
}

// submit runs a client's write, here if this node leads, else on the leader.
func (w *writer) submit(ctx context.Context, op writeOp) error {
	if ok, _ := w.cluster.Ready(true); !ok {
		return errNotAllNodes
	}
	leader := w.cluster.Leader()
	if leader == int64(w.cluster.self) {
		return w.replicate(ctx, op)
	}
	if leader < 0 {
		return errNotAllNodes
	}
	op.From = w.cluster.self
	return w.call(ctx, uint32(leader), pathSubmit, op)
}

// replicate applies op on the leader, then on every peer.
func (w *writer) replicate(ctx context.Context, op writeOp) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ok, _ := w.cluster.Ready(true); !ok {
		return errNotAllNodes
	}
	if undoable(op.Kind) {
		if done, err := w.confirmExisting(ctx, op); done {
			return err
		}
	}
	if op.Kind == opCreateKey {
		op.Material = make([]byte, 32)
		if _, err := rand.Read(op.Material); err != nil {
			return fmt.Errorf("generate key: %w", err)
		}
	}
	op.From = w.cluster.self
	if op.Kind == opAddHSM && !op.Overwrite {
		// refused when any node already has an entry: ask every node first
		check := op
		check.DryRun = true
		if err := w.everywhere(ctx, check); err != nil {
			return err
		}
	}
	return w.everywhere(ctx, op)
}

// everywhere applies op here, then on every peer. replicate refused the
// write before anything was applied when a peer was down; once started, a
// write is sent to EVERY peer (a peer's failure does not skip the others) and
// retried on the peers that failed, so that the cluster converges (the
// product's rule: writes need every node up and are applied on all).
func (w *writer) everywhere(ctx context.Context, op writeOp) error {
	if err := w.store.apply(ctx, op, w.logf); err != nil {
		return err
	}
	err := w.toPeers(ctx, op)
	if undoable(op.Kind) {
		if err != nil {
			w.takeBack(ctx, op)
		}
		w.markConfirmed(objectID(op), err == nil)
	}
	return err
}

// takeBack undoes a create that some peer missed, here and on every peer
// that answers: the client is told the write failed, so nothing of it may
// stay (a retry then creates it afresh, on every node).
func (w *writer) takeBack(ctx context.Context, op writeOp) {
	op.Undo = true
	if err := w.store.apply(ctx, op, w.logf); err != nil {
		w.logf("cluster write: undo %s %s: %v", op.Kind, op.Name, err)
	}
	_ = w.toPeers(ctx, op)
}

// toPeers applies op on every peer, with retries (applyAll).
func (w *writer) toPeers(ctx context.Context, op writeOp) error {
	return applyAll(ctx, w.cluster.peerIDs(), peerRetries, func(id uint32) error {
		return w.call(ctx, id, pathApply, op)
	})
}

// peerRetries is how many times a write is re-sent to a peer that failed.
const peerRetries = 3

// applyAll calls apply for every id, then again (up to retries times, a
// little apart) for those that failed; it returns the errors of the ids
// that never succeeded.
func applyAll(ctx context.Context, ids []uint32, retries int, apply func(uint32) error) error {
	var errs []error
	for try := 0; try <= retries && len(ids) > 0; try++ {
		if try > 0 && sleepCtx(ctx, time.Duration(try)*100*time.Millisecond) != nil {
			break
		}
		var failed []uint32
		errs = errs[:0]
		for _, id := range ids {
			if err := apply(id); err != nil {
				failed, errs = append(failed, id), append(errs, err)
			}
		}
		ids = failed
	}
	return errors.Join(errs...)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call sends op to a peer and turns its answer back into an error.
func (w *writer) call(ctx context.Context, id uint32, path string, op writeOp) error {
	var res writeResult
	if err := w.cluster.exchange(ctx, id, path, writeTimeout, op, &res); err != nil {
		return &apiError{errNotAllNodes.code, fmt.Sprintf("%s (node %d unreachable: %v)", errNotAllNodes.msg, id, err)}
	}
	if res.Code != 0 {
		return &apiError{res.Code, res.Message}
	}
	return nil
}

// handleSubmit runs a write a follower forwarded (this node should lead).
func (w *writer) handleSubmit(rw http.ResponseWriter, r *http.Request) {
	w.serveWrite(rw, r, func(op writeOp) error {
		if w.cluster.Leader() != int64(w.cluster.self) {
			return &apiError{http.StatusServiceUnavailable, "cluster write: this node is not the leader"}
		}
		return w.replicate(r.Context(), op)
	})
}

// handleApply applies a write the leader replicates.
func (w *writer) handleApply(rw http.ResponseWriter, r *http.Request) {
	w.serveWrite(rw, r, func(op writeOp) error {
		op.Replicated = true
		return w.store.apply(r.Context(), op, w.logf)
	})
}

func (w *writer) serveWrite(rw http.ResponseWriter, r *http.Request, do func(writeOp) error) {
	var op writeOp
	if !w.cluster.receiveInto(rw, r, &op, func() uint32 { return op.From }) {
		return
	}
	res := writeResult{From: w.cluster.self}
	if err := do(op); err != nil {
		ae := asAPIError(err)
		res.Code, res.Message = ae.code, ae.msg
	}
	w.cluster.reply(rw, res)
}

// Leader is the leader this node knows, -1 when none.
func (c *Cluster) Leader() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.currentLeader(time.Now())
}

// peerIDs lists the other nodes, sorted.
func (c *Cluster) peerIDs() []uint32 {
	ids := make([]uint32, 0, len(c.peer))
	for id := range c.peer {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// setSealed publishes this node's new list of sealed entries.
func (c *Cluster) setSealed(names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.local.HSM = names
}
