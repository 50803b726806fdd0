package migrate

import (
	"testing"
	"time"
)

// TestTogetherOutage: the read outage of a together restart ends when the
// first node answers ready, the write outage when the last one does; a
// node's later ready answers (its settle period) change neither.
func TestTogetherOutage(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	r := &runner{opts: Options{Now: func() time.Time { return now }}}
	r.markReady("kms-1") // not measured yet: ignored
	down := r.measureReady()
	now = now.Add(1200 * time.Millisecond)
	r.markReady("kms-2")
	now = now.Add(800 * time.Millisecond)
	r.markReady("kms-1")
	r.markReady("kms-2")
	now = now.Add(3 * time.Second) // settle periods
	read, write := r.outage(down)
	if read != 1.2 || write != 2.0 {
		t.Fatalf("outage read %.2fs write %.2fs, want 1.20 and 2.00", read, write)
	}
	if r.readyAt != nil {
		t.Fatal("the measurement must end with the outage")
	}
}
