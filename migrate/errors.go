package migrate

import (
	"errors"
	"fmt"
	"strings"
)

// PreflightError means the run stopped before changing anything.
type PreflightError struct{ Err error }

func (e *PreflightError) Error() string {
	return "preflight failed, nothing was changed: " + e.Err.Error()
}
func (e *PreflightError) Unwrap() error { return e.Err }

// HaltError means the run stopped at a node. Restored says whether that
// node was proven healthy again in a state of this run's history (State
// names it); Unchanged says the failure happened before anything on the
// node changed, so there was nothing to restore. With neither, the node
// needs the operator (the outcome is "action needed").
type HaltError struct {
	Node     string
	Phase    string
	Cause    error
	Restored bool
	// Unchanged: the step failed before it changed the node (a refused
	// atomic write, a failed backup): no restore was run.
	Unchanged bool
	// State is the state the node is left in ("original files",
	// "stage-1 state", ...), when known.
	State string
	// Tried lists the restore rungs attempted, newest first, with why each failed.
	Tried []string
	// Explain is operator advice (what probably happened, what to do).
	Explain string
	// Journal holds the node's last log lines.
	Journal string
}

func (e *HaltError) Error() string {
	var state string
	switch {
	case e.Unchanged:
		state = "halted, nothing changed on this node"
	case e.Restored && e.State != "":
		state = "it was restored to its " + e.State + " and is healthy again"
	case e.Restored:
		state = "it was restored and is healthy again"
	default:
		state = "it could NOT be restored"
	}
	msg := fmt.Sprintf("halted in %s at node %s: %v; %s", e.Phase, e.Node, e.Cause, state)
	if len(e.Tried) > 0 {
		msg += " (tried: " + strings.Join(e.Tried, "; ") + ")"
	}
	if e.Explain != "" {
		msg += "; " + e.Explain
	}
	return msg
}

func (e *HaltError) Unwrap() error { return e.Cause }

// RestoreError means no state of the run's history (down to the original
// files) brought the node back: operator action is needed. Backup says
// where the original files are; Tried what was attempted.
type RestoreError struct {
	Node    string
	Backup  string
	Cause   error
	Restore error
	Tried   []string
	Journal string
}

func (e *RestoreError) Error() string {
	tried := ""
	if len(e.Tried) > 0 {
		tried = "; tried: " + strings.Join(e.Tried, "; ")
	}
	return fmt.Sprintf("node %s: restore failed: %v (after: %v)%s; even the original files did not start: they are in %s; read the node's journal (below), fix what it reports, copy them back and run `systemctl restart` on the node", e.Node, e.Restore, e.Cause, tried, e.Backup)
}

func (e *RestoreError) Unwrap() []error { return []error{e.Cause, e.Restore} }

// ErrInterrupted means SIGINT/SIGTERM stopped the run between nodes; the node
// in flight was finished or restored. Re-running the same command resumes.
var ErrInterrupted = errors.New("interrupted: the node in flight was finished or restored and no new node was started; run the same command again to resume")

// ErrStalePlan means a saved plan no longer matches the nodes' files.
var ErrStalePlan = errors.New("plan is stale")
