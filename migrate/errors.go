package migrate

import (
	"errors"
	"fmt"
)

// PreflightError means the run stopped before changing anything.
type PreflightError struct{ Err error }

func (e *PreflightError) Error() string {
	return "preflight failed, nothing was changed: " + e.Err.Error()
}
func (e *PreflightError) Unwrap() error { return e.Err }

// HaltError means a node failed its gate and the run stopped. Restored says
// whether that node was put back and is healthy again.
type HaltError struct {
	Node     string
	Phase    string
	Cause    error
	Restored bool
	// Explain is operator advice (what probably happened, what to do).
	Explain string
	// Journal holds the node's last log lines.
	Journal string
}

func (e *HaltError) Error() string {
	state := "it was restored and is healthy again"
	if !e.Restored {
		state = "it could NOT be restored"
	}
	msg := fmt.Sprintf("halted in %s at node %s: %v; %s", e.Phase, e.Node, e.Cause, state)
	if e.Explain != "" {
		msg += "; " + e.Explain
	}
	return msg
}

func (e *HaltError) Unwrap() error { return e.Cause }

// RestoreError means a node could not be brought back: operator action is
// needed. Backup says where the original file is.
type RestoreError struct {
	Node    string
	Backup  string
	Cause   error
	Restore error
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("node %s: restore failed: %v (after: %v); the original files are in %s: copy them back and run `systemctl restart` on the node", e.Node, e.Restore, e.Cause, e.Backup)
}

func (e *RestoreError) Unwrap() []error { return []error{e.Cause, e.Restore} }

// ErrInterrupted means SIGINT/SIGTERM stopped the run between nodes; the node
// in flight was finished or restored. Re-running the same command resumes.
var ErrInterrupted = errors.New("interrupted: the node in flight was finished or restored and no new node was started; run the same command again to resume")

// ErrStalePlan means a saved plan no longer matches the nodes' files.
var ErrStalePlan = errors.New("plan is stale")
