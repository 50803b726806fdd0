package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/remote"
)

// LockStaleAfter is how long a lock may go unrefreshed before it counts as
// stale (its run died without releasing it). Runs refresh every LockRefresh.
const (
	LockStaleAfter = 90 * time.Second
	LockRefresh    = 20 * time.Second
)

// LockInfo is the content of a node's lock file: enough for an operator to
// find the run that holds it.
type LockInfo struct {
	Run      string `json:"run"`
	Operator string `json:"operator_host"`
	PID      int    `json:"pid"`
	// ProcStart identifies the process beyond its PID (on Linux the start
	// time in /proc/<pid>/stat), so a reused PID is not taken for the run.
	ProcStart string    `json:"proc_start,omitempty"`
	Started   time.Time `json:"started"`
	Refreshed time.Time `json:"refreshed"`
}

// LockError says why a node's lock could not be taken.
type LockError struct {
	Node  string
	Path  string
	Owner LockInfo
	Stale bool
}

// LockOwnerDead tells whether a lock's owner is a run that died on this
// operator host: same host, and its process is gone (or its PID now belongs
// to another process). Such a lock is stale at once. Locks of other hosts
// keep the refresh-age rule.
type LockOwnerDead func(owner LockInfo) bool

// Error names the owner, so the operator can find the other run.
func (e *LockError) Error() string {
	state := "held"
	hint := "another kmsctl run is active on this cluster"
	if e.Stale {
		state = "stale"
		hint = "its run no longer refreshes it; clear it with --force-unlock"
	}
	return fmt.Sprintf("node %s: lock %s is %s by run %s (host %s, pid %d, refreshed %s): %s",
		e.Node, e.Path, state, e.Owner.Run, e.Owner.Operator, e.Owner.PID, e.Owner.Refreshed.UTC().Format(time.RFC3339), hint)
}

// LockPath is where a node's lock lives: under /run/lock, so a reboot clears it.
func LockPath(unit string) string {
	return "/run/lock/kmsctl-" + strings.TrimSuffix(unit, ".service") + ".lock"
}

// AcquireLock creates the lock file exclusively (set -C: the shell's O_EXCL).
// With force, a stale lock is removed first; a fresh one is never stolen. A
// lock whose owner dead reports as a dead run of this host is taken over
// without force (dead may be nil). A lock taken over is returned, so the
// run can report it.
func AcquireLock(ctx context.Context, n remote.Node, path string, info LockInfo, force bool, now time.Time, dead LockOwnerDead) (*LockInfo, error) {
	var replaced *LockInfo
	for attempt := 0; attempt < 2; attempt++ {
		ok, err := createExclusive(ctx, n, path, info)
		if err != nil || ok {
			return replaced, err
		}
		owner, err := ReadLock(ctx, n, path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released between our two calls
		}
		if err != nil {
			return nil, err
		}
		gone := dead != nil && dead(owner)
		stale := gone || now.Sub(owner.Refreshed) > LockStaleAfter
		if !(force || gone) || !stale {
			return nil, &LockError{Node: n.Name(), Path: path, Owner: owner, Stale: stale}
		}
		if err := removeLock(ctx, n, path); err != nil {
			return nil, err
		}
		replaced = &owner
	}
	return nil, fmt.Errorf("node %s: lock %s: could not be taken", n.Name(), path)
}

func createExclusive(ctx context.Context, n remote.Node, path string, info LockInfo) (bool, error) {
	body, _ := json.Marshal(info)
	res, err := n.Run(ctx, remote.Command{
		Args:  []string{"sh", "-c", `set -C; umask 077; cat > "$1"`, "sh", path},
		Stdin: strings.NewReader(string(body) + "\n"),
		Sudo:  true,
	})
	if err != nil {
		return false, fmt.Errorf("node %s: lock %s: %w", n.Name(), path, err)
	}
	return res.ExitCode == 0, nil
}

// ReadLock reads a node's lock file.
func ReadLock(ctx context.Context, n remote.Node, path string) (LockInfo, error) {
	b, _, err := n.ReadFile(ctx, path)
	if err != nil {
		return LockInfo{}, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return LockInfo{}, fmt.Errorf("node %s: lock %s: unreadable: %w", n.Name(), path, err)
	}
	return info, nil
}

// RefreshLock rewrites the lock with a new refresh time, if it is still ours.
func RefreshLock(ctx context.Context, n remote.Node, path string, info LockInfo) error {
	cur, err := ReadLock(ctx, n, path)
	if err != nil {
		return err
	}
	if cur.Run != info.Run {
		return fmt.Errorf("node %s: lock %s was taken over by run %s", n.Name(), path, cur.Run)
	}
	body, _ := json.Marshal(info)
	return n.WriteFileAtomic(ctx, path, append(body, '\n'), remote.WriteOptions{Mode: 0o600})
}

// ReleaseLock removes the lock if it belongs to run.
func ReleaseLock(ctx context.Context, n remote.Node, path, run string) error {
	cur, err := ReadLock(ctx, n, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Run != run {
		return nil
	}
	return removeLock(ctx, n, path)
}

func removeLock(ctx context.Context, n remote.Node, path string) error {
	res, err := n.Run(ctx, remote.Command{Args: []string{"rm", "-f", "--", path}, Sudo: true})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d: %s", res.ExitCode, res.StderrLine())
	}
	if err != nil {
		return fmt.Errorf("node %s: remove lock %s: %w", n.Name(), path, err)
	}
	return nil
}
