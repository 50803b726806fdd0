package cmd

import (
	"errors"
	"fmt"
)

// Exit statuses of kmsctl, the single source for docs/exit-codes.md. Scripts
// and CI pipelines branch on them, so a number never changes meaning.
const (
	// ExitOK: the command did what was asked and everything checked is healthy.
	ExitOK = 0
	// ExitFailed: the command failed (connection, I/O, remote error).
	ExitFailed = 1
	// ExitUsage: the invocation is wrong: unknown command or flag, bad flag
	// value, or an inventory that does not validate.
	ExitUsage = 2
	// ExitUnhealthy: the command ran and found a problem: a node unhealthy
	// (status) or a check failed (vault check).
	ExitUnhealthy = 3
	// ExitPreflightFailed: a rollout's preflight failed; nothing was changed.
	ExitPreflightFailed = 4
	// ExitHaltedRestored: a rollout halted; the failing node was restored.
	ExitHaltedRestored = 5
	// ExitInterrupted: interrupted by a signal; re-run to resume.
	ExitInterrupted = 6
	// ExitRollbackFailed: restoring a node failed; operator action needed.
	ExitRollbackFailed = 7
	// ExitNotPurged: the migration is done and the cluster runs on Vault,
	// but the local HSM's sealed root key entry could not be removed (or a
	// restart brought it back): an old copy of the local key still unseals
	// a copy of those volumes. Nothing needs repair; the message says why.
	ExitNotPurged = 8
)

// ExitError carries an exit status through cobra. Commands return it (via
// the helpers below) and Main turns it into the process status.
type ExitError struct {
	Code int
	Err  error
}

// Error returns the wrapped message.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks err as a wrong invocation (exit 2).
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// errSilentUnhealthy is returned when the output already explained the
// problem; Main then prints nothing more.
var errSilentUnhealthy = &ExitError{Code: ExitUnhealthy}

// ExitCode returns the process status for an error returned by a command.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailed
}
