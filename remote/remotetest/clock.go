package remotetest

import (
	"sync"
	"time"
)

// Clock is a fake clock for the code that waits on nodes (health gates,
// settle periods, lock refreshes): After fires at once and moves the time
// on by its duration, so a wait of minutes on a fake node takes
// microseconds while the code under test still measures minutes, and the
// test can read how long it would have waited. Safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	waited time.Duration
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After moves the clock on by d and returns a channel that already holds
// the new time.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(max(d, 0))
	c.waited += max(d, 0)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// Waited is the sum of every After so far.
func (c *Clock) Waited() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waited
}
