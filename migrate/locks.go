package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// withLocks is the one lock discipline of apply and rollback: take every
// node's lock (or none), refresh them while fn runs, release them after.
// Started is set once; refreshes only move Refreshed.
func (r *runner) withLocks(ctx context.Context, fn func(context.Context) error) error {
	info := r.opts.Lock
	info.Run = r.opts.Run
	if info.Started.IsZero() {
		info.Started = r.opts.Now().UTC()
	}
	info.Refreshed = info.Started
	if err := r.lockAll(ctx, info); err != nil {
		return &PreflightError{Err: err}
	}
	defer r.unlockAll()
	stop := r.keepLocks(ctx, info)
	defer stop()
	return fn(ctx)
}

// lockAll takes every node's lock, or none: on failure the ones taken are released.
func (r *runner) lockAll(ctx context.Context, info LockInfo) error {
	var taken []*Target
	for _, t := range r.targets {
		old, err := AcquireLock(ctx, t.Node, LockPath(t.Unit), info, r.opts.ForceUnlock, r.opts.Now(), r.opts.LockOwnerDead)
		if old != nil {
			r.emit(Event{Phase: PhasePreflight, Node: t.Name, Step: "lock", Result: ResultWarn,
				Message: fmt.Sprintf("took over the stale lock of run %s (host %s, pid %d, no longer running)", old.Run, old.Operator, old.PID)})
		}
		if err != nil {
			for _, u := range taken {
				_ = ReleaseLock(context.WithoutCancel(ctx), u.Node, LockPath(u.Unit), r.opts.Run)
			}
			return err
		}
		taken = append(taken, t)
	}
	r.emit(Event{Phase: PhasePreflight, Step: "lock", Result: ResultOK, Message: "locked every node"})
	return nil
}

// keepLocks refreshes the locks every LockRefresh (on the run's clock)
// until the returned stop is called.
func (r *runner) keepLocks(ctx context.Context, info LockInfo) (stop func()) {
	done := make(chan struct{})
	tick, stopTick := r.opts.ticker(LockRefresh)
	go func() {
		defer stopTick()
		for {
			select {
			case <-done:
				return
			case <-tick:
				info.Refreshed = r.opts.Now().UTC()
				for _, t := range r.targets {
					_ = RefreshLock(context.WithoutCancel(ctx), t.Node, LockPath(t.Unit), info)
				}
			}
		}
	}()
	return func() { close(done) }
}

// ticker is Options.Tick or a real ticker.
func (o Options) ticker(d time.Duration) (<-chan time.Time, func()) {
	if o.Tick != nil {
		return o.Tick(d)
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// unlockAll releases the locks, even after an interrupt.
func (r *runner) unlockAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, t := range r.targets {
		_ = ReleaseLock(ctx, t.Node, LockPath(t.Unit), r.opts.Run)
	}
}

// cleanup deletes the backups that are copies of the HSM key.
func (r *runner) cleanup(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, t := range r.targets {
		dir := RunBackupDir(t.BackupDir, r.opts.Run)
		if r.opts.KeepBackups {
			r.sum.BackupsKept = append(r.sum.BackupsKept, t.Name+":"+dir)
			continue
		}
		n, err := r.deleteAllKeyBackups(ctx, t)
		if err != nil {
			r.emit(Event{Phase: PhaseCleanup, Node: t.Name, Result: ResultWarn, Error: err.Error()})
			continue
		}
		if n > 0 {
			r.emit(Event{Phase: PhaseCleanup, Node: t.Name, Step: "backups", Result: ResultOK, Message: fmt.Sprintf("deleted %d backups holding the HSM key", n)})
		}
	}
	if r.opts.KeepBackups {
		r.sum.Warnings = append(r.sum.Warnings, "--keep-backups: each kept env-file backup is a copy of the local HSM key; delete them when no longer needed")
	}
}

// deleteAllKeyBackups removes the HSM-key backups of every run on the node,
// not just this one: once the whole cluster runs on Vault, a copy of the key
// left by an interrupted or halted earlier run is just as much a liability.
func (r *runner) deleteAllKeyBackups(ctx context.Context, t *Target) (int, error) {
	runs, err := ListRuns(ctx, t.Node, t.BackupDir)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, run := range runs {
		n, err := DeleteKeyBackups(ctx, t.Node, t.BackupDir, run)
		r.forgetManifest(t.Name)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}
