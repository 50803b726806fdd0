package migrate

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote"
)

// fileEdit is one file of a node step: what the file holds now and what it
// gets.
type fileEdit struct {
	path     string
	old, new []byte
	info     remote.FileInfo
	holdsKey bool
	// secret: the new content holds a secret, so it is never written
	// readable by everyone, whatever the old file's mode was.
	secret bool
}

// nodeStep moves one node from its current state to the next one: stage 1,
// stage 2 (rolling or together) and rollback are all node steps, and every
// one of them is undone by the same restore (restore.go).
type nodeStep struct {
	t     *Target
	phase string
	// label names the state the step leads to, e.g. "stage-1 state".
	label string
	edits []fileEdit
	want  Want
	// explain turns a failure into operator advice; journal is the
	// node's last log lines.
	explain func(cause error, journal string) string
}

// runStep backs the files up, writes them atomically, restarts the unit and
// gates it. A write refused before it changed anything halts with
// Unchanged; any later failure runs the restore ladder. The step runs on a
// context that an interrupt does not cancel: the node in flight is always
// finished or restored.
func (r *runner) runStep(ctx context.Context, s nodeStep) error {
	ctx = context.WithoutCancel(ctx)
	started := r.opts.Now()
	if err := r.prepare(ctx, s); err != nil {
		return err
	}
	if err := r.write(ctx, s); err != nil {
		return err
	}
	if err := r.restartAndGate(ctx, s.phase, s.t, s.want); err != nil {
		return r.restore(ctx, []string{s.t.Name}, s.phase, err, s.explain, false)
	}
	r.reached(s)
	if err := r.checkWatch(ctx, s.phase, s.t.Name); err != nil {
		return err
	}
	r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "gate", Result: ResultOK, Duration: r.opts.Now().Sub(started).Seconds()})
	r.nodeSummary(s.t.Name).Time += r.opts.Now().Sub(started).Seconds()
	return nil
}

// prepare re-reads and backs up every file of the step; nothing on the node
// has changed yet when it fails.
func (r *runner) prepare(ctx context.Context, s nodeStep) error {
	for _, e := range s.edits {
		if err := checkUnchanged(ctx, s.t, e); err != nil {
			return r.unchanged(s, err)
		}
		b, err := Backup(ctx, s.t.Node, s.t.BackupDir, r.opts.Run, e.path, e.old, e.info, e.holdsKey, r.opts.Now(), r.hsmNames(s.t.Name))
		if err != nil {
			return r.unchanged(s, err)
		}
		r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "backup", Result: ResultOK, Message: b.Backup})
	}
	return nil
}

// write writes the step's files. The atomic write's contract is that a
// failed write leaves the file as it was; kmsctl checks that by reading it
// back, and halts without a restore when nothing on the node changed.
func (r *runner) write(ctx context.Context, s nodeStep) error {
	for i, e := range s.edits {
		err := s.t.Node.WriteFileAtomic(ctx, e.path, e.new, newFileOpts(e))
		if err == nil {
			r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "write", Result: ResultOK, Message: fmt.Sprintf("%s %s", e.path, Digest(e.new))})
			continue
		}
		cause := writeCause(s.t.Name, e.path, err)
		if i == 0 && stillHolds(ctx, s.t, e.path, e.old) {
			return r.unchanged(s, cause)
		}
		return r.restore(ctx, []string{s.t.Name}, s.phase, cause, s.explain, false)
	}
	return nil
}

// unchanged is the halt of a step that changed nothing on its node.
func (r *runner) unchanged(s nodeStep, cause error) error {
	r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "halt", Result: ResultFail, Error: cause.Error(), Message: "nothing changed on this node"})
	return &HaltError{Node: s.t.Name, Phase: s.phase, Cause: cause, Unchanged: true, State: r.stateOf(s.t.Name),
		Explain: "fix the cause on the node and run the same command again"}
}

// stillHolds reports whether the file on the node still holds old (a
// missing file counts as empty).
func stillHolds(ctx context.Context, t *Target, path string, old []byte) bool {
	cur, _, err := t.Node.ReadFile(ctx, path)
	if isNotExist(err) {
		return len(old) == 0
	}
	return err == nil && bytes.Equal(cur, old)
}

// restartAndGate restarts the node's unit and waits for its gate.
func (r *runner) restartAndGate(ctx context.Context, phase string, t *Target, want Want) error {
	if err := systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout); err != nil {
		return err
	}
	r.emit(Event{Phase: phase, Node: t.Name, Step: "restart", Result: ResultOK, Message: t.Unit})
	r.emit(Event{Phase: phase, Node: t.Name, Step: "gate", Result: ResultWait, Message: "waiting for the node to be healthy"})
	return r.gate(ctx, t, want)
}

// checkUnchanged re-reads the file just before writing it: an edit made on
// the node since the facts were gathered must not be overwritten.
func checkUnchanged(ctx context.Context, t *Target, e fileEdit) error {
	cur, _, err := t.Node.ReadFile(ctx, e.path)
	if isNotExist(err) && len(e.old) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("re-read %s: %w", e.path, err)
	}
	if !bytes.Equal(cur, e.old) {
		return fmt.Errorf("%s changed on the node during the run (now %s)", e.path, Digest(cur))
	}
	return nil
}

// newFileOpts keeps the replaced file's owner and mode, never readable by
// everyone when the new content holds a secret.
func newFileOpts(e fileEdit) remote.WriteOptions {
	o := writeOpts(e.info)
	if e.secret {
		o.Mode &^= 0o007
	}
	return o
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
