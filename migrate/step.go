package migrate

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote"
)

// change is one file edit on one node, with its gate.
type change struct {
	path     string
	old, new []byte
	info     remote.FileInfo
	holdsKey bool
	// secret: the new content holds a secret, so it is never written
	// readable by everyone, whatever the old file's mode was.
	secret  bool
	want    Want
	explain func(gateErr error) string
}

// change backs the file up, writes the new content atomically, restarts the
// unit and gates it. If anything after the write fails, the backup is put
// back, the unit restarted and gated again, and a *HaltError (or, if that
// fails too, a *RestoreError) is returned. The step runs on a context that an
// interrupt does not cancel: the node in flight is always finished or restored.
func (r *runner) change(ctx context.Context, t *Target, phase string, c change) error {
	ctx = context.WithoutCancel(ctx)
	started := r.opts.Now()
	step := func(name, result, msg string) {
		r.emit(Event{Phase: phase, Node: t.Name, Step: name, Result: result, Message: msg})
	}
	if err := r.checkUnchanged(ctx, t, c); err != nil {
		return &HaltError{Node: t.Name, Phase: phase, Cause: err, Restored: true, Explain: "nothing was written on this node"}
	}
	b, err := Backup(ctx, t.Node, t.BackupDir, r.opts.Run, c.path, c.old, c.info, c.holdsKey, r.opts.Now())
	if err != nil {
		return &HaltError{Node: t.Name, Phase: phase, Cause: err, Restored: true, Explain: "nothing was written on this node"}
	}
	step("backup", ResultOK, b.Backup)
	newOpts := writeOpts(c.info)
	if c.secret {
		newOpts.Mode &^= 0o007
	}
	if err := t.Node.WriteFileAtomic(ctx, c.path, c.new, newOpts); err != nil {
		return r.restore(ctx, t, phase, c, b.Backup, fmt.Errorf("write %s: %w", c.path, err))
	}
	step("write", ResultOK, fmt.Sprintf("%s %s", c.path, Digest(c.new)))
	if err := systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout); err != nil {
		return r.restore(ctx, t, phase, c, b.Backup, err)
	}
	step("restart", ResultOK, t.Unit)
	step("gate", ResultWait, "waiting for the node to be healthy")
	if err := r.gate(ctx, t, c.want); err != nil {
		return r.restore(ctx, t, phase, c, b.Backup, err)
	}
	r.emit(Event{Phase: phase, Node: t.Name, Step: "gate", Result: ResultOK, Duration: r.opts.Now().Sub(started).Seconds()})
	r.nodeSummary(t.Name).Time += r.opts.Now().Sub(started).Seconds()
	return nil
}

// checkUnchanged re-reads the file just before writing it: an edit made on
// the node since the facts were gathered must not be overwritten.
func (r *runner) checkUnchanged(ctx context.Context, t *Target, c change) error {
	cur, _, err := t.Node.ReadFile(ctx, c.path)
	if isNotExist(err) && len(c.old) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("re-read %s: %w", c.path, err)
	}
	if !bytes.Equal(cur, c.old) {
		return fmt.Errorf("%s changed on the node during the run (now %s)", c.path, Digest(cur))
	}
	return nil
}

// restore puts the original bytes back after a failed step and proves the
// node healthy again.
func (r *runner) restore(ctx context.Context, t *Target, phase string, c change, backup string, cause error) error {
	journal := systemd.Journal(ctx, t.Node, t.Unit, 20)
	r.emit(Event{Phase: phase, Node: t.Name, Step: "restore", Result: ResultStart, Error: cause.Error()})
	rerr := t.Node.WriteFileAtomic(ctx, c.path, c.old, writeOpts(c.info))
	if rerr == nil {
		rerr = systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout)
	}
	if rerr == nil {
		rerr = r.gate(ctx, t, Want{ClusterSize: len(r.targets)})
	}
	if rerr != nil {
		r.emit(Event{Phase: phase, Node: t.Name, Step: "restore", Result: ResultFail, Error: rerr.Error()})
		return &RestoreError{Node: t.Name, Backup: backup, Cause: cause, Restore: rerr}
	}
	r.emit(Event{Phase: phase, Node: t.Name, Step: "restore", Result: ResultOK, Message: "original file back, node healthy"})
	explain := ""
	if c.explain != nil {
		explain = c.explain(cause)
	}
	return &HaltError{Node: t.Name, Phase: phase, Cause: cause, Restored: true, Explain: explain, Journal: journal}
}

// writeOpts keeps the replaced file's owner and mode; secrets files are never
// widened beyond what they were.
func writeOpts(info remote.FileInfo) remote.WriteOptions {
	mode := info.Mode.Perm()
	if mode == 0 {
		mode = 0o600
	}
	return remote.WriteOptions{Mode: mode, UID: info.UID, GID: info.GID}
}
