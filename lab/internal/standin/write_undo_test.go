package standin

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWriteUndoAndReplicatedApply: a create that some peer missed is taken
// back (only the try that created it: same creation time), a peer applying
// the leader's write replaces a leftover of a taken-back try, and a
// replicated remove of an entry already gone is done, so retries converge.
func TestWriteUndoAndReplicatedApply(t *testing.T) {
	rek := make([]byte, 32)
	s := &store{volume: t.TempDir(), rek: rek, sealed: &Sealed{HSM: map[string]string{}},
		db: &keyDB{Enclaves: map[string]enclaveRecord{}, Keys: map[string][]keyVersion{}}}
	ctx, logf := context.Background(), func(string, ...any) {}
	at := time.Date(2026, 12, 3, 12, 0, 0, 1, time.UTC)
	enclave := writeOp{Kind: opCreateEnclave, Name: "e", At: at}
	key := writeOp{Kind: opCreateKey, Enclave: "e", Name: "k", Material: make([]byte, 32), At: at}
	for _, op := range []writeOp{enclave, key} {
		if err := s.apply(ctx, op, logf); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
	}
	other := key
	other.Undo, other.At = true, at.Add(time.Second)
	if err := s.apply(ctx, other, logf); err != nil || len(s.db.Keys["e/k"]) != 1 {
		t.Fatalf("an undo of another try removed the key: %v %v", err, s.db.Keys)
	}
	if err := s.apply(ctx, key, logf); !errors.Is(err, errKeyExists) {
		t.Fatalf("a client's create of an existing key: %v, want errKeyExists", err)
	}
	retry := key
	retry.Replicated, retry.At = true, at.Add(2*time.Second)
	if err := s.apply(ctx, retry, logf); err != nil || len(s.db.Keys["e/k"]) != 1 || !s.db.Keys["e/k"][0].CreatedAt.Equal(retry.At) {
		t.Fatalf("a replicated create did not replace the leftover: %v %+v", err, s.db.Keys["e/k"])
	}
	undo := retry
	undo.Undo = true
	if err := s.apply(ctx, undo, logf); err != nil || len(s.db.Keys["e/k"]) != 0 {
		t.Fatalf("undo left the key: %v %v", err, s.db.Keys)
	}
	enclave.Undo = true
	if err := s.apply(ctx, enclave, logf); err != nil || len(s.db.Enclaves) != 0 {
		t.Fatalf("undo left the enclave: %v %v", err, s.db.Enclaves)
	}
	gone := writeOp{Kind: opRemoveHSM, Name: "hsm:minio:soft", Replicated: true}
	if err := s.apply(ctx, gone, logf); err != nil {
		t.Fatalf("a replicated remove of an entry already gone: %v", err)
	}
	gone.Replicated = false
	if err := s.apply(ctx, gone, logf); err == nil {
		t.Fatal("a client's remove of a missing entry must fail (404)")
	}
}
