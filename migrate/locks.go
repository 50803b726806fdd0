package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// lockAll takes every node's lock, or none: on failure the ones taken are released.
func (r *runner) lockAll(ctx context.Context) error {
	info := r.lockInfo()
	var taken []*Target
	for _, t := range r.targets {
		if err := AcquireLock(ctx, t.Node, LockPath(t.Unit), info, r.opts.ForceUnlock, r.opts.Now()); err != nil {
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

func (r *runner) lockInfo() LockInfo {
	info := r.opts.Lock
	info.Run = r.opts.Run
	if info.Started.IsZero() {
		info.Started = r.opts.Now().UTC()
	}
	info.Refreshed = r.opts.Now().UTC()
	return info
}

// keepLocks refreshes the locks until the returned stop is called.
func (r *runner) keepLocks(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(LockRefresh)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				info := r.lockInfo()
				for _, t := range r.targets {
					_ = RefreshLock(context.WithoutCancel(ctx), t.Node, LockPath(t.Unit), info)
				}
			}
		}
	}()
	return func() { close(done) }
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
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}
