package remote

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForEach(t *testing.T) {
	for _, tt := range []struct{ items, limit, wantMax int }{
		{items: 10, limit: 3, wantMax: 3},
		{items: 2, limit: 8, wantMax: 2},
		{items: 4, limit: 0, wantMax: 1},
		{items: 0, limit: 4, wantMax: 0},
	} {
		t.Run(fmt.Sprintf("%d/%d", tt.items, tt.limit), func(t *testing.T) {
			var running, peak atomic.Int32
			var mu sync.Mutex
			seen := map[int]bool{}
			err := ForEach(make([]string, tt.items), tt.limit, func(i int, _ string) error {
				n := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(10 * time.Millisecond)
				mu.Lock()
				seen[i] = true
				mu.Unlock()
				return nil
			})
			if err != nil || len(seen) != tt.items || int(peak.Load()) != tt.wantMax {
				t.Errorf("err %v, ran %d of %d, peak %d, want %d", err, len(seen), tt.items, peak.Load(), tt.wantMax)
			}
		})
	}
}

// TestForEachErrors: a failure does not stop the other items, and every
// error is returned, in item order.
func TestForEachErrors(t *testing.T) {
	var ran atomic.Int32
	err := ForEach([]string{"a", "b", "c", "d"}, 4, func(i int, s string) error {
		ran.Add(1)
		if i%2 == 1 {
			time.Sleep(time.Duration(4-i) * 5 * time.Millisecond)
			return errors.New("node " + s)
		}
		return nil
	})
	if ran.Load() != 4 || err == nil || err.Error() != "node b\nnode d" {
		t.Errorf("ran %d, err %q; want 4 and \"node b\\nnode d\"", ran.Load(), err)
	}
}
