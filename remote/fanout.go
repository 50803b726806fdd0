package remote

import (
	"errors"

	"golang.org/x/sync/errgroup"
)

// ForEach is kmsctl's one bounded fan-out over nodes: it calls fn for every
// item, at most limit at a time (limit < 1 means one at a time, so a zero
// --parallel never deadlocks), and waits for every call. Every item runs
// even when another fails, because callers report per node; the result is
// the calls' errors joined in item order, so messages are deterministic.
// A call starts only once it has a slot, so a timeout that fn derives from
// its context is not spent waiting for one.
func ForEach[T any](items []T, limit int, fn func(i int, item T) error) error {
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	errs := make([]error, len(items))
	for i, item := range items {
		g.Go(func() error {
			errs[i] = fn(i, item)
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}
