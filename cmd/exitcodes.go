package cmd

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/kmsctl/kmsctl/inventory"
)

// Exit statuses of kmsctl, the single source for docs/exit-codes.md (a test
// compares the two). Scripts and CI pipelines branch on them, so a number
// never changes meaning.
const (
	// ExitOK: the command did what was asked and everything checked is healthy.
	ExitOK = 0
	// ExitFailed: the command failed (connection, I/O, remote error).
	ExitFailed = 1
	// ExitChanges: with --dry-run --detailed-exitcode, the plan has changes
	// pending. 2, as terraform plan -detailed-exitcode, so CI steps read the
	// same; no other condition ever exits 2.
	ExitChanges = 2
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
	// ExitUsage: the invocation or its input is wrong, nothing was
	// attempted: unknown command or flag, bad flag value, contradicting
	// flags, a missing or invalid inventory, config file or plan file.
	// 64 is EX_USAGE of sysexits(3): far from every status above, so a typo
	// can never pass for "changes pending".
	ExitUsage = 64
	// ExitNotPurged: the migration is done and the cluster runs on Vault,
	// but the local HSM's sealed root key entry could not be removed (or a
	// restart brought it back): an old copy of the local key still unseals
	// a copy of those volumes. Nothing needs repair; the message says why.
	ExitNotPurged = 8
)

// exitNames names every status for docs/exit-codes.md; the table test
// checks that the document lists exactly these.
var exitNames = map[int]string{
	ExitOK: "OK", ExitFailed: "failed", ExitChanges: "changes pending", ExitUnhealthy: "unhealthy",
	ExitPreflightFailed: "preflight failed", ExitHaltedRestored: "halted, node restored",
	ExitInterrupted: "interrupted", ExitRollbackFailed: "operator action needed", ExitNotPurged: "migrated, not purged", ExitUsage: "usage",
}

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

// usageError marks err as a wrong invocation or input (exit 64).
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// errSilentUnhealthy is returned when the output already explained the
// problem; Main then prints nothing more.
var errSilentUnhealthy = &ExitError{Code: ExitUnhealthy}

// errChangesPending is --detailed-exitcode's "the plan has changes"; the
// plan on stdout already says so.
var errChangesPending = &ExitError{Code: ExitChanges}

// ExitCode is the one function that turns an error returned by a command
// into the process status. A usage condition anywhere in the chain wins
// over whatever wraps it (an invalid inventory met while opening a rollout
// session is still a usage error, not a failed preflight), so the same
// condition gets the same status in every command.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if isUsage(err) {
		return ExitUsage
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailed
}

// isUsage walks the whole error tree (wrapped and joined errors) for a
// usage mark or an inventory field error.
func isUsage(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *ExitError:
		if e.Code == ExitUsage {
			return true
		}
	case *inventory.FieldError:
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return isUsage(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if isUsage(e) {
				return true
			}
		}
	}
	return false
}

// inventoryError is how every command reports an inventory that cannot be
// used: missing, unreadable or invalid are all usage errors (64).
func inventoryError(path string, err error) error {
	var fe *inventory.FieldError
	switch {
	case errors.As(err, &fe):
		return usageError(fmt.Errorf("invalid inventory:\n%w", err))
	case errors.Is(err, fs.ErrNotExist):
		return usageError(fmt.Errorf("inventory %s does not exist (create one with: kmsctl inventory init --out %s): %w", path, path, err))
	}
	return usageError(err)
}
