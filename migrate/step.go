package migrate

import (
	"bytes"
	"context"
	"errors"
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
	// undo, when set, runs after a failed gate and before the restore: it
	// puts back what the step changed outside the node (the retire step's
	// min_decryption_version), so the restore can prove the node starts.
	undo func(ctx context.Context) error
	// noBackup: the files the step replaces are not backed up (the
	// rollback's step: it writes the backups back, and keeps what it
	// replaces as its restore state).
	noBackup bool
}

// runStep backs the files up, writes them atomically (the file work is
// one batch: one remote command on an SSH node), restarts the unit and
// gates it. A write refused before it changed anything halts with
// Unchanged; any later failure runs the restore ladder. The step runs on a
// context that an interrupt does not cancel: the node in flight is always
// finished or restored.
func (r *runner) runStep(ctx context.Context, s nodeStep) error {
	ctx = context.WithoutCancel(ctx)
	started := r.opts.Now()
	if err := r.writeStep(ctx, s); err != nil {
		return err
	}
	if err := r.restartAndGate(ctx, s.phase, s.t, s.want); err != nil {
		if s.undo != nil {
			if uerr := s.undo(ctx); uerr != nil {
				return uerr
			}
		}
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

// writeStep does the step's file work in one batch. A failure that
// changed nothing on the node halts with Unchanged; a later one runs the
// restore ladder.
func (r *runner) writeStep(ctx context.Context, s nodeStep) error {
	f, err := r.stepFiles(ctx, s)
	if err != nil {
		return r.unchanged(s, err)
	}
	changed, cause := r.applyStepFiles(ctx, s, f, 0, len(f.ops))
	switch {
	case cause == nil:
		return nil
	case !changed:
		return r.unchanged(s, cause)
	}
	return r.restore(ctx, []string{s.t.Name}, s.phase, cause, s.explain, false)
}

// stepFiles is a step's file work as one batch: ops[:prepared] check that
// every file still holds what the facts read and back up what this run has
// not saved yet (nothing on the node changes if they fail), the rest write
// the step's files in the order of its edits.
type stepFiles struct {
	ops      []remote.FileOp
	prepared int
	// manifestAt is the index of the manifest write (-1: none), manifest
	// the manifest it writes, backups each edit's backup entry.
	manifestAt int
	manifest   Manifest
	backups    []BackupEntry
}

// stepFiles builds the batch of a step from the run's manifest on the node.
func (r *runner) stepFiles(ctx context.Context, s nodeStep) (stepFiles, error) {
	f := stepFiles{manifestAt: -1}
	for _, e := range s.edits {
		f.ops = append(f.ops, remote.FileOp{Kind: remote.OpExpect, Path: e.path, Data: e.old})
	}
	if !s.noBackup {
		m, err := r.manifest(ctx, s.t)
		if err != nil {
			return stepFiles{}, err
		}
		bops, next, entries := backupOps(m, s.t.BackupDir, r.opts.Run, s.t.Name, s.edits, r.opts.Now(), r.hsmNames(s.t.Name))
		f.ops = append(f.ops, bops...)
		f.manifest, f.backups = next, entries
		if len(bops) > 0 {
			f.manifestAt = len(f.ops) - 1
		}
	}
	f.prepared = len(f.ops)
	for _, e := range s.edits {
		f.ops = append(f.ops, remote.FileOp{Kind: remote.OpWrite, Path: e.path, Data: e.new, Opts: newFileOpts(e)})
	}
	return f, nil
}

// applyStepFiles runs f.ops[from:to] on the node and reports each backup
// and write done. On failure, cause says what failed in one line and
// changed whether any of the step's files may differ from what the facts
// read (the atomic write's contract is that a failed write leaves its file
// as it was; kmsctl checks that by reading the first one back).
func (r *runner) applyStepFiles(ctx context.Context, s nodeStep, f stepFiles, from, to int) (changed bool, cause error) {
	err := remote.ApplyFiles(ctx, s.t.Node, f.ops[from:to])
	done := to
	be := (*remote.BatchError)(nil)
	if errors.As(err, &be) {
		done = from + be.Index
	} else if err != nil {
		done = from
	}
	if f.manifestAt >= from && done > f.manifestAt {
		r.setManifest(s.t.Name, f.manifest)
	}
	r.reportFiles(s, f, from, done)
	if err == nil {
		return false, nil
	}
	if done < f.prepared {
		return false, prepareCause(s.t.Name, f.ops[done], err)
	}
	e := s.edits[done-f.prepared]
	cause = writeCause(s.t.Name, e.path, err)
	return done > f.prepared || !stillHolds(ctx, s.t, e.path, e.old), cause
}

// reportFiles emits the backup and write events of f.ops[from:done].
func (r *runner) reportFiles(s nodeStep, f stepFiles, from, done int) {
	if from < f.prepared && done >= f.prepared {
		for _, b := range f.backups {
			r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "backup", Result: ResultOK, Message: b.Backup})
		}
	}
	for i := max(from, f.prepared); i < done; i++ {
		e := s.edits[i-f.prepared]
		r.emit(Event{Phase: s.phase, Node: s.t.Name, Step: "write", Result: ResultOK, Message: fmt.Sprintf("%s %s", e.path, Digest(e.new))})
	}
}

// prepareCause tells why a check or backup failed, in one line.
func prepareCause(node string, op remote.FileOp, err error) error {
	var be *remote.BatchError
	if errors.As(err, &be) {
		err = be.Err
	}
	switch {
	case errors.Is(err, remote.ErrFileChanged):
		return fmt.Errorf("%s changed on the node during the run (%v)", op.Path, err)
	case op.Kind == remote.OpExpect:
		return fmt.Errorf("re-read %s: %w", op.Path, err)
	}
	return fmt.Errorf("back up: %w", writeCause(node, op.Path, err))
}

// manifest is the run's backup manifest on the node: read once, then kept
// as this run writes it.
func (r *runner) manifest(ctx context.Context, t *Target) (Manifest, error) {
	r.mu.Lock()
	m, ok := r.manifests[t.Name]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := ReadManifest(ctx, t.Node, t.BackupDir, r.opts.Run)
	if err == nil {
		r.setManifest(t.Name, m)
	}
	return m, err
}

func (r *runner) setManifest(name string, m Manifest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.manifests[name] = m
}

// forgetManifest drops the kept manifest after something else rewrote it
// (the purge's record, the key backups' clean-up).
func (r *runner) forgetManifest(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.manifests, name)
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
