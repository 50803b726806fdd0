package migrate

import (
	"testing"
	"time"
)

// TestNextWait pins the gate's probe schedule: 50 ms for the first two
// seconds after a restart, then doubling up to the configured interval, and
// never more often than the configured interval when that is shorter.
func TestNextWait(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		elapsed, wait, poll, want time.Duration
	}{
		{0, 0, 500 * ms, 50 * ms},
		{1900 * ms, 50 * ms, 500 * ms, 50 * ms},
		{2 * time.Second, 50 * ms, 500 * ms, 100 * ms},
		{2500 * ms, 100 * ms, 500 * ms, 200 * ms},
		{3 * time.Second, 400 * ms, 500 * ms, 500 * ms},
		{time.Minute, 500 * ms, 500 * ms, 500 * ms},
		{0, 0, ms, ms},
		{time.Minute, ms, ms, ms},
		{time.Minute, 0, 2 * time.Second, 50 * ms},
	}
	for _, tt := range tests {
		if got := nextWait(tt.elapsed, tt.wait, tt.poll); got != tt.want {
			t.Errorf("nextWait(%s, %s, %s) = %s, want %s", tt.elapsed, tt.wait, tt.poll, got, tt.want)
		}
	}
}
