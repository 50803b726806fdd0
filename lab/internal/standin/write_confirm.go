package standin

import (
	"context"
	"fmt"
	"slices"
)

// A client's create of an enclave or key that the leader already holds is
// answered "exists" only once every node holds the leader's copy. The write
// that made it may not have reached every node: its leader died between
// applying it to some nodes and taking it back, or a take-back missed a node
// that had applied it. A client that retried such a create and took
// "exists" to mean "my earlier try landed" (as an SDK client does) would
// otherwise hold a key that some node does not know: lost when it reads
// there. The product's consensus gives the same guarantee (an existing
// object is a committed one); the stand-in gets it by bringing every peer to
// the leader's copy, once per object and leader.

// Kinds of writeOp that bring a peer to the leader's copy of an object.
const (
	opEnsureEnclave = "ensure-enclave"
	opEnsureKey     = "ensure-key"
)

// versionCopy is one key version as the leader holds it, its material in
// the clear (inter-node traffic is mutual TLS); the peer seals it under its
// own REK.
type versionCopy struct {
	versionMeta
	Material []byte `json:"material"`
}

// confirmExisting answers a client's create (op) of what this leader
// already holds: done reports whether op was answered; the answer is the
// "exists" error once every peer holds the leader's copy, else the
// "not every node" refusal (the client retries). w.mu is held.
func (w *writer) confirmExisting(ctx context.Context, op writeOp) (done bool, err error) {
	cp, ok, err := w.store.existingCopy(op)
	if err != nil || !ok {
		return err != nil, err
	}
	exists := error(errKeyExists)
	if op.Kind == opCreateEnclave {
		exists = errEnclaveExists
	}
	id := objectID(op)
	if w.confirmed[id] {
		return true, exists
	}
	cp.From = w.cluster.self
	if err := w.toPeers(ctx, cp); err != nil {
		w.logf("cluster write: %s exists here, not confirmed on every node: %v", id, err)
		return true, &apiError{errNotAllNodes.code, fmt.Sprintf("%s (%s exists on the leader, not yet on every node: %v)", errNotAllNodes.msg, id, err)}
	}
	w.markConfirmed(id, true)
	return true, exists
}

// markConfirmed records (or, for a take-back, forgets) that every node
// holds the object id as this leader does.
func (w *writer) markConfirmed(id string, yes bool) {
	if w.confirmed == nil {
		w.confirmed = map[string]bool{}
	}
	if yes {
		w.confirmed[id] = true
	} else {
		delete(w.confirmed, id)
	}
}

// objectID names the enclave or key a create writes.
func objectID(op writeOp) string {
	if op.Kind == opCreateEnclave {
		return "enclave " + op.Name
	}
	return "key " + op.Enclave + "/" + op.Name
}

// existingCopy is the leader's copy of what op (a client's create) names,
// as an ensure op for the peers; ok is false when this node holds nothing
// of that name (a create of a new version is never answered "exists").
func (s *store) existingCopy(op writeOp) (cp writeOp, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case op.Kind == opCreateEnclave:
		rec, ok := s.db.Enclaves[op.Name]
		return writeOp{Kind: opEnsureEnclave, Name: op.Name, At: rec.CreatedAt, By: rec.CreatedBy}, ok, nil
	case op.Kind == opCreateKey && !op.AddVersion:
		id := op.Enclave + "/" + op.Name
		versions := s.db.Keys[id]
		if len(versions) == 0 {
			return writeOp{}, false, nil
		}
		rec := s.db.Enclaves[op.Enclave]
		cp = writeOp{Kind: opEnsureKey, Enclave: op.Enclave, Name: op.Name, At: rec.CreatedAt, By: rec.CreatedBy}
		for _, v := range versions {
			m, err := s.material(id, v)
			if err != nil {
				return writeOp{}, false, fmt.Errorf("key %s v%d: %w", id, v.Version, err)
			}
			cp.Versions = append(cp.Versions, versionCopy{v.versionMeta, m})
		}
		return cp, true, nil
	}
	return writeOp{}, false, nil
}

// ensureEnclave makes this node's record of the enclave op.Name the
// leader's (op.At, op.By). s.mu is held.
func (s *store) ensureEnclave(op writeOp) error {
	if cur, ok := s.db.Enclaves[op.Name]; ok && cur.CreatedAt.Equal(op.At) {
		return nil
	}
	s.db.Enclaves[op.Name] = enclaveRecord{CreatedAt: op.At, CreatedBy: op.By}
	return s.saveDB()
}

// ensureKey makes this node's versions of the key the leader's, and its
// enclave known (op.At, op.By are the enclave's record). s.mu is held.
func (s *store) ensureKey(op writeOp) error {
	changed := false
	if _, ok := s.db.Enclaves[op.Enclave]; !ok {
		s.db.Enclaves[op.Enclave] = enclaveRecord{CreatedAt: op.At, CreatedBy: op.By}
		changed = true
	}
	id := op.Enclave + "/" + op.Name
	same := slices.EqualFunc(s.db.Keys[id], op.Versions, func(have keyVersion, want versionCopy) bool {
		return have.Version == want.Version && have.CreatedAt.Equal(want.CreatedAt)
	})
	if same && !changed {
		return nil
	}
	if !same {
		versions := make([]keyVersion, 0, len(op.Versions))
		for _, v := range op.Versions {
			sealed, err := s.sealMaterial(id, v.Version, v.Material)
			if err != nil {
				return err
			}
			versions = append(versions, keyVersion{v.versionMeta, sealed})
		}
		s.db.Keys[id] = versions
	}
	return s.saveDB()
}
