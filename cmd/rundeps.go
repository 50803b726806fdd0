package cmd

import (
	"path/filepath"
	"time"

	"github.com/kmsctl/kmsctl/migrate"
)

// runDeps are what the hsm commands that change nodes (enable-vault,
// rollback) take from the Factory besides the nodes: the clock, where run
// logs go and how this run is named in the nodes' lock files. Filled in one
// place (Factory.runDeps), so no command reads the clock, the environment,
// the host name or the PID itself.
type runDeps struct {
	// Now is the clock's time: run ids, event times, lock times.
	Now func() time.Time
	// After and Tick are the clock's waits (see Factory).
	After func(time.Duration) <-chan time.Time
	Tick  func(time.Duration) (<-chan time.Time, func())
	// StateDir receives the run logs.
	StateDir string
	// Lock names this run in the lock files and spots the locks of dead
	// runs of this host.
	Lock func() (migrate.LockInfo, migrate.LockOwnerDead)
}

func (f *Factory) runDeps() runDeps {
	return runDeps{Now: f.Now, After: f.After, Tick: f.Tick, StateDir: stateDir(f.Getenv), Lock: f.runLock}
}

// clock hands the run's clock to the rollout.
func (d runDeps) clock(o *migrate.Options) {
	o.Now, o.After, o.Tick = d.Now, d.After, d.Tick
}

// runLock identifies this run in the nodes' lock files (host, PID and the
// process's start time) and returns the test that lets a later run on this
// host take over the lock of a run that died (kill -9) without waiting for
// it to go stale.
func (f *Factory) runLock() (migrate.LockInfo, migrate.LockOwnerDead) {
	host, _ := f.Hostname()
	pid := f.Getpid()
	info := migrate.LockInfo{Operator: host, PID: pid, ProcStart: procStart(pid)}
	return info, func(owner migrate.LockInfo) bool { return ownerDead(host, owner) }
}

// stateDir is where run logs go: $XDG_STATE_HOME/kmsctl, else
// $HOME/.local/state/kmsctl, else a directory under the temporary one.
func stateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "kmsctl")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "kmsctl")
	}
	tmp := getenv("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	return filepath.Join(tmp, "kmsctl-state")
}
