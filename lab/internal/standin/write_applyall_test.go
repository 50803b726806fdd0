package standin

import (
	"context"
	"errors"
	"testing"
)

// TestApplyAllReachesEveryPeer: a peer's failure does not skip the peers
// after it, a transient failure is retried until it succeeds, and a peer that
// keeps failing is reported (the RemoveHSM partial-apply bug).
func TestApplyAllReachesEveryPeer(t *testing.T) {
	calls := map[uint32]int{}
	failsFor := map[uint32]int{1: 1, 2: 100} // 1 fails once, 2 always
	err := applyAll(context.Background(), []uint32{1, 2, 3}, 2, func(id uint32) error {
		calls[id]++
		if calls[id] <= failsFor[id] {
			return errors.New("peer down")
		}
		return nil
	})
	if err == nil {
		t.Fatal("a peer that always fails was not reported")
	}
	if calls[3] != 1 || calls[1] != 2 || calls[2] != 3 {
		t.Fatalf("calls %v: want 3 once (after the failing peers), 1 retried once, 2 tried 3 times", calls)
	}
	transient := 0
	if err := applyAll(context.Background(), []uint32{1, 3}, 2, func(id uint32) error {
		if id == 1 && transient < 2 {
			transient++
			return errors.New("transient")
		}
		return nil
	}); err != nil {
		t.Fatalf("a transient failure did not converge: %v", err)
	}
}
