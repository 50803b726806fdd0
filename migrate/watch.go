package migrate

import (
	"context"
	"fmt"
	"sort"

	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// RestartedError means a node that had passed its gate restarted on its own
// since (a crash later than the settle period): its main PID or systemd's
// restart count changed.
type RestartedError struct {
	Node     string
	Was, Now systemd.UnitState
	Journal  string
}

func (e *RestartedError) Error() string {
	return fmt.Sprintf("%s restarted on its own after passing its gate (pid %d -> %d, restarts %d -> %d, now %s)",
		e.Node, e.Was.MainPID, e.Now.MainPID, e.Was.NRestarts, e.Now.NRestarts, e.Now)
}

// watchPassed records the node's main PID and restart count after it passed
// a gate: from then on the node must not restart unless kmsctl restarts it.
func (r *runner) watchPassed(name string, u systemd.UnitState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watch[name] = u
}

// checkWatch fails when a node kmsctl migrated restarted on its own since
// its last gate. The restarted node is walked back to its previous state
// (its current one is proven not to stay up) and the run halts.
func (r *runner) checkWatch(ctx context.Context, phase, skip string) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.watch))
	for n := range r.watch {
		if n != skip {
			names = append(names, n)
		}
	}
	r.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		t := r.byName[n]
		u, err := systemd.ReadUnit(ctx, t.Node, t.Unit)
		if err != nil {
			return &GateError{Node: n, Probe: "unit", Err: err}
		}
		r.mu.Lock()
		was := r.watch[n]
		r.mu.Unlock()
		if u.MainPID == was.MainPID && u.NRestarts == was.NRestarts {
			continue
		}
		cause := &RestartedError{Node: n, Was: was, Now: u, Journal: systemd.Journal(ctx, t.Node, t.Unit, 20)}
		r.emit(Event{Phase: phase, Node: n, Step: "watch", Result: ResultFail, Error: cause.Error()})
		return r.restore(ctx, []string{n}, phase, cause, restartedExplain, true)
	}
	return nil
}

func restartedExplain(error, string) string {
	return "the node crashed after its gate had passed (its journal is below), so its newest state was given up and no further node was changed; find why it crashes before running again"
}
