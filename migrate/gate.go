package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// NodeAPI is a node's key manager API reached through its SSH tunnel.
type NodeAPI interface {
	Live(ctx context.Context) error
	Ready(ctx context.Context) error
	// ClusterStatus needs the API key; without one it returns ErrNoAPIKey.
	ClusterStatus(ctx context.Context) (*kmsapi.ClusterStatus, error)
}

// ErrNoAPIKey is returned by NodeAPI.ClusterStatus when no API key was given.
var ErrNoAPIKey = errors.New("no key manager API key (MINIO_KMS_API_KEY)")

// GateOptions bound every wait of a health gate.
type GateOptions struct {
	// Settle is how long the unit must stay up with the same main PID and
	// restart count: a Type=simple daemon that crashes still reads "active"
	// right after a restart.
	Settle time.Duration
	// Timeout bounds the whole gate.
	Timeout time.Duration
	// RestartTimeout bounds `systemctl restart`.
	RestartTimeout time.Duration
	// Poll is the interval between probes.
	Poll time.Duration
}

// The gate probes every firstPoll for the first fastPollFor after a restart
// (a healthy node is ready a fraction of a second after it, and each idle
// poll interval there is pure overhead), then backs off to GateOptions.Poll.
const (
	firstPoll   = 50 * time.Millisecond
	fastPollFor = 2 * time.Second
)

// nextWait is the wait before the next probe, elapsed after the gate began
// and wait being the last one.
func nextWait(elapsed, wait, poll time.Duration) time.Duration {
	if elapsed < fastPollFor {
		return min(firstPoll, poll)
	}
	return min(max(2*wait, firstPoll), poll)
}

// DefaultGate suits the key manager: it is ready in seconds when healthy.
var DefaultGate = GateOptions{Settle: 5 * time.Second, Timeout: 2 * time.Minute, RestartTimeout: 2 * time.Minute, Poll: 500 * time.Millisecond}

// Want is what a gate expects of a node beyond "up and ready".
type Want struct {
	// VaultEntry: an HSM that was not configured before the change (the
	// Vault HSM, by difference) is configured and has a sealed root key
	// entry on the node.
	VaultEntry bool
	// NoLocalHSM: none of the HSMs configured before the change is still
	// configured on the node.
	NoLocalHSM bool
	// ClusterSize is the number of nodes that must be up (0: skip).
	ClusterSize int
	// PeersDown accepts other nodes down in the node's view.
	PeersDown bool
	// StartOnly proves only that the node starts: unit up through the
	// settle period and its API live. A restore rung wants this: whether
	// the node can rejoin its peers also depends on them (and on Vault),
	// and is reported after the restore rather than failing it.
	StartOnly bool
	// Steady skips the settle period: the node was not just restarted, so
	// one passing round of probes is enough (checks between the stages and
	// at the end).
	Steady bool
}

// GateError says which probe failed last, for the halt report.
type GateError struct {
	Node  string
	Probe string
	Err   error
}

func (e *GateError) Error() string {
	return fmt.Sprintf("node %s: health gate: %s: %v", e.Node, e.Probe, e.Err)
}

func (e *GateError) Unwrap() error { return e.Err }

// Gate waits until the node is healthy: unit running and stable through the
// settle period, live and ready, and (with an API key) back in a cluster with
// a leader, every node up, and the HSM entries wanted. A passing gate records
// the node's main PID and restart count for the unexpected-restart watch.
func (r *runner) gate(ctx context.Context, t *Target, want Want) error {
	g := r.opts.Gate
	ctx, cancel := context.WithTimeout(ctx, g.Timeout)
	defer cancel()
	last := &GateError{Node: t.Name, Probe: "unit", Err: errors.New("not checked yet")}
	began, wait, seen := r.opts.Now(), time.Duration(0), false
	deadline := began.Add(g.Timeout) // on the run's clock; ctx bounds real time too
	for {
		u, err := r.probe(ctx, t, want)
		if err == nil {
			r.watchPassed(t.Name, u)
			return nil
		}
		if ctx.Err() != nil && seen {
			// The gate's deadline cut this probe short: its error says
			// nothing about the node and would hide the failure that kept
			// the gate waiting (and the advice drawn from it).
			return last
		}
		if ge := (*GateError)(nil); errors.As(err, &ge) {
			seen = true
			last = ge
		}
		if p := (*permanent)(nil); errors.As(err, &p) {
			return last
		}
		wait = nextWait(r.opts.Now().Sub(began), wait, g.Poll)
		select {
		case <-ctx.Done():
			return last
		case <-r.opts.After(wait):
		}
		if !r.opts.Now().Before(deadline) {
			return last
		}
	}
}

// probe runs one full round of the gate's checks, each judged by the rules
// in health.go, and returns the unit state it saw.
func (r *runner) probe(ctx context.Context, t *Target, want Want) (systemd.UnitState, error) {
	fail := func(probe string, err error) error { return &GateError{Node: t.Name, Probe: probe, Err: err} }
	u, err := systemd.ReadUnit(ctx, t.Node, t.Unit)
	if err != nil {
		return u, fail("unit", err)
	}
	if err := JudgeUnit(t.Unit, u); err != nil {
		return u, fail("unit", err)
	}
	if !want.StartOnly {
		if err := t.API.Ready(ctx); err != nil {
			return u, fail("ready", err)
		}
		r.markReady(t.Name)
	}
	if !want.Steady {
		if err := r.settle(ctx, t, u); err != nil {
			return u, fail("settle", err)
		}
	}
	if err := t.API.Live(ctx); err != nil {
		return u, fail("live", err)
	}
	if !r.opts.HasAPIKey || want.StartOnly {
		return u, nil
	}
	cs, err := t.API.ClusterStatus(ctx)
	if err != nil {
		return u, fail("cluster", err)
	}
	names := r.hsmNames(t.Name)
	self, err := JudgeCluster(cs, t.Addrs, want, names)
	if err != nil {
		return u, fail("cluster", err)
	}
	if want.VaultEntry && names != nil {
		r.learnVault(t.Name, vaultAdded(self.HSMActive, names.Local))
	}
	return u, nil
}

// settle watches the unit for the settle period: same main PID, same restart
// count, still running.
func (r *runner) settle(ctx context.Context, t *Target, first systemd.UnitState) error {
	deadline := r.opts.Now().Add(r.opts.Gate.Settle)
	for r.opts.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.opts.After(r.opts.Gate.Poll):
		}
		u, err := systemd.ReadUnit(ctx, t.Node, t.Unit)
		if err != nil {
			return err
		}
		if !u.Running() || u.MainPID != first.MainPID || u.NRestarts != first.NRestarts {
			return fmt.Errorf("%s did not stay up: %s, pid %d->%d, restarts %d->%d", t.Unit, u, first.MainPID, u.MainPID, first.NRestarts, u.NRestarts)
		}
	}
	return nil
}

// permanent marks a probe failure that no amount of waiting will fix.
type permanent struct{ error }

func (p *permanent) Unwrap() error { return p.error }

func formatDown(down map[uint32]string) string {
	parts := make([]string, 0, len(down))
	for id, addr := range down {
		parts = append(parts, fmt.Sprintf("%d (%s)", id, addr))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
