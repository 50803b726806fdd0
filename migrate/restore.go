package migrate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/remote"

	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// Labels of the states a node goes through in a run; a restore names the
// one it left the node in.
const (
	StateOriginal = "original files"
	StateStage1   = "stage-1 state"
	StateStage2   = "stage-2 state"
	StateBefore   = "state before the rollback"
)

// fileState is one file as a node state holds it.
type fileState struct {
	path string
	data []byte
	opts remote.WriteOptions
}

// nodeState is one state of a node's history in this run: its files and
// what its gate expects of it. The first one is the files the run found.
type nodeState struct {
	label string
	files []fileState
	want  Want
}

// with returns the state after the step's edits.
func (st nodeState) with(s nodeStep) nodeState {
	next := nodeState{label: s.label, want: s.want, files: append([]fileState(nil), st.files...)}
	for _, e := range s.edits {
		fs := fileState{path: e.path, data: e.new, opts: newFileOpts(e)}
		i := indexFile(next.files, e.path)
		if i < 0 {
			next.files = append(next.files, fs)
			continue
		}
		next.files[i] = fs
	}
	return next
}

func indexFile(files []fileState, p string) int {
	for i, f := range files {
		if f.path == p {
			return i
		}
	}
	return -1
}

// startHistory records the state a node starts the run in.
func (r *runner) startHistory(name, label string, files []fileState, want Want) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history[name] = []nodeState{{label: label, files: files, want: want}}
}

// reached records that the node passed its gate in the step's new state.
func (r *runner) reached(s nodeStep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history[s.t.Name]
	if len(h) == 0 {
		return
	}
	r.history[s.t.Name] = append(h, h[len(h)-1].with(s))
}

// stateOf names the node's last state proven to start.
func (r *runner) stateOf(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history[name]
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1].label
}

// rungs lists the node's states to try, newest first; skipCurrent leaves
// out the newest (it is the one that failed).
func (r *runner) rungs(name string, skipCurrent bool) []nodeState {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history[name]
	var out []nodeState
	for i := len(h) - 1; i >= 0; i-- {
		if skipCurrent && i == len(h)-1 && len(h) > 1 {
			continue
		}
		out = append(out, h[i])
	}
	return out
}

// settleAt cuts the node's history back to the state it was restored to.
func (r *runner) settleAt(name, label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history[name]
	for i := len(h) - 1; i > 0 && h[i].label != label; i-- {
		h = h[:i]
	}
	r.history[name] = h
}

// restore is the one restore of kmsctl: it walks the named nodes back
// through the run's own history (stage-2 state, stage-1 state, original
// files), one rung at a time and all the nodes together, until every one of
// them passes the gate of that state. The result is a *HaltError naming the
// state reached, or a *RestoreError when even the original files did not
// start (operator action needed).
func (r *runner) restore(ctx context.Context, names []string, phase string, cause error, explain func(error, string) string, skipCurrent bool) error {
	ctx = context.WithoutCancel(ctx)
	first, who := r.byName[names[0]], strings.Join(names, ",")
	journal := systemd.Journal(ctx, first.Node, first.Unit, 20)
	ladders, depth := map[string][]nodeState{}, 0
	for _, n := range names {
		if ladders[n] = r.rungs(n, skipCurrent); len(ladders[n]) == 0 {
			return &RestoreError{Node: n, Backup: path.Join(r.byName[n].BackupDir, r.opts.Run), Cause: cause, Restore: errors.New("no state of this run recorded for the node"), Journal: journal}
		}
		depth = max(depth, len(ladders[n]))
	}
	var tried []string
	var last error
	for i := 0; i < depth; i++ {
		rung := func(n string) nodeState { l := ladders[n]; return l[min(i, len(l)-1)] }
		label := rung(names[0]).label
		r.emit(Event{Phase: phase, Node: who, Step: "restore", Result: ResultStart, Message: "back to the " + label, Error: cause.Error()})
		if last = r.enterStates(ctx, names, rung); last == nil {
			he := &HaltError{Node: who, Phase: phase, Cause: cause, Restored: true, State: label, Tried: tried, Journal: journal}
			r.restored(ctx, names, rung, he, explain)
			return he
		}
		r.emit(Event{Phase: phase, Node: who, Step: "restore", Result: ResultFail, Message: label, Error: last.Error()})
		tried = append(tried, fmt.Sprintf("%s: %v", label, last))
	}
	return &RestoreError{Node: who, Backup: path.Join(first.BackupDir, r.opts.Run), Cause: cause, Restore: last,
		Tried: tried, Journal: systemd.Journal(ctx, first.Node, first.Unit, 20)}
}

// restored records the state the nodes were restored to and completes the
// halt's advice (and whether the cluster took them back).
func (r *runner) restored(ctx context.Context, names []string, rung func(string) nodeState, he *HaltError, explain func(error, string) string) {
	for _, n := range names {
		r.settleAt(n, rung(n).label)
	}
	r.emit(Event{Phase: he.Phase, Node: he.Node, Step: "restore", Result: ResultOK, Message: "on its " + he.State + ", running"})
	if explain != nil {
		he.Explain = explain(he.Cause, he.Journal)
	}
	if note := r.clusterNote(ctx, names, rung); note != "" {
		he.Explain = strings.TrimPrefix(he.Explain+"; "+note, "; ")
	}
}

// clusterNote gives the cluster a short while (10 s at most) to take the
// restored nodes back with what their state expects, and says so when it
// does not (e.g. a peer on Vault alone cannot talk to a node on its local
// key while Vault is down).
func (r *runner) clusterNote(ctx context.Context, names []string, state func(string) nodeState) string {
	ctx, cancel := context.WithTimeout(ctx, min(10*time.Second, r.opts.Gate.Timeout))
	defer cancel()
	var bad []string
	for _, n := range names {
		want := state(n).want
		want.Steady = true
		if err := r.gate(ctx, r.byName[n], want); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "the node runs, but the cluster is not whole yet (" + strings.Join(bad, "; ") + "): fix the cause (often Vault) and check `kmsctl status` before running again"
}

// enterStates writes each node's files of its state where they differ,
// restarts the nodes together and gates them.
func (r *runner) enterStates(ctx context.Context, names []string, state func(string) nodeState) error {
	if len(names) == 0 {
		return errors.New("no node to restore")
	}
	err := r.forAll(ctx, names, func(t *Target) error {
		for _, f := range state(t.Name).files {
			if stillHolds(ctx, t, f.path, f.data) {
				continue
			}
			if err := t.Node.WriteFileAtomic(ctx, f.path, f.data, f.opts); err != nil {
				return writeCause(t.Name, f.path, err)
			}
		}
		return systemd.RestartUnit(ctx, t.Node, t.Unit, r.opts.Gate.RestartTimeout)
	})
	if err != nil {
		return err
	}
	return r.forAll(ctx, names, func(t *Target) error {
		return r.gate(ctx, t, Want{StartOnly: true})
	})
}

// writeCause turns a failed write into one line naming the node, the path
// and the reason, e.g. "kms-2: /etc/minkms: no space left on device"; the
// transport's full error stays reachable through errors.Is and errors.As.
func writeCause(node, p string, err error) error {
	msg := strings.ToLower(err.Error())
	dir := path.Dir(p)
	line := fmt.Sprintf("%s: write %s: %s", node, p, strings.SplitN(err.Error(), "\n", 2)[0])
	switch {
	case strings.Contains(msg, "no space left"):
		line = fmt.Sprintf("%s: %s: no space left on device", node, dir)
	case strings.Contains(msg, "read-only file system"):
		line = fmt.Sprintf("%s: %s: read-only file system", node, dir)
	case strings.Contains(msg, "symbolic link"):
		line = fmt.Sprintf("%s: %s is a symbolic link", node, p)
	case strings.Contains(msg, "permission denied"):
		line = fmt.Sprintf("%s: %s: permission denied", node, dir)
	}
	return &writeError{line: line, err: err}
}

// writeError is a failed write told in one line.
type writeError struct {
	line string
	err  error
}

func (e *writeError) Error() string { return e.line }
func (e *writeError) Unwrap() error { return e.err }
