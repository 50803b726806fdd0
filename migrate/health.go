package migrate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"

	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// The rules below are kmsctl's one judgement of a node's health: the gate,
// the preflight (CheckHealth) and `kmsctl status` all call them, so they
// cannot disagree about a node.

// JudgeUnit is the rule for the unit: active (running) with a main process.
// A unit systemd gave up on (failed, e.g. start-limit-hit) is a permanent
// failure: waiting cannot help.
func JudgeUnit(unit string, u systemd.UnitState) error {
	if u.Running() {
		return nil
	}
	err := fmt.Errorf("%s is %s, restarts %d", unit, u, u.NRestarts)
	if u.ActiveState == "failed" {
		return &permanent{err}
	}
	return err
}

// JudgeView is the rule for a cluster view as a whole: no node down, the
// expected size, a leader every node agrees on.
func JudgeView(cs *kmsapi.ClusterStatus, size int) error {
	if len(cs.Down) > 0 {
		return &ViewError{fmt.Errorf("nodes down: %s", formatDown(cs.Down))}
	}
	if size > 0 && len(cs.Up) < size {
		return &ViewError{fmt.Errorf("%d of %d nodes up", len(cs.Up), size)}
	}
	if _, ok := leaderOf(cs); !ok {
		return &ViewError{errors.New("no leader")}
	}
	return nil
}

// ViewError is a node's view of its peers failing (nodes down, too few up,
// no leader): the evidence of an inter-node rejection, as opposed to the
// node's own HSM state.
type ViewError struct{ Err error }

func (e *ViewError) Error() string { return e.Err.Error() }
func (e *ViewError) Unwrap() error { return e.Err }

// LocalStillError means the local HSM is still configured after its key was
// removed from the env file: something else gives the unit the key.
type LocalStillError struct{ Still, Active []string }

func (e *LocalStillError) Error() string {
	return fmt.Sprintf("the local HSM is still configured (%s in hsm_active: %s)", strings.Join(e.Still, ", "), strings.Join(e.Active, ", "))
}

// JudgeCluster applies a gate's cluster expectations to one node's own
// view and returns the node's entry in it. names (nil: unknown, HSM checks
// skipped) are the node's HSMs as told apart by IdentifyHSMs.
func JudgeCluster(cs *kmsapi.ClusterStatus, addrs []string, want Want, names *HSMNames) (kmsapi.NodeStatus, error) {
	if err := JudgeView(cs, want.ClusterSize); err != nil && !want.PeersDown {
		return kmsapi.NodeStatus{}, err
	}
	if _, ok := leaderOf(cs); !ok {
		return kmsapi.NodeStatus{}, &ViewError{errors.New("no leader")}
	}
	self, ok := findNode(cs, addrs)
	if !ok {
		return self, fmt.Errorf("node not found in the cluster view (addresses %s)", strings.Join(addrs, ", "))
	}
	if names == nil {
		return self, nil
	}
	return self, JudgeHSMs(self, want, *names)
}

// JudgeHSMs is the HSM rule, by difference: after the Vault block is in, an
// HSM not configured before must be configured and hold a sealed root key
// entry; after stage 2 none of the HSMs configured before may remain.
func JudgeHSMs(self kmsapi.NodeStatus, want Want, names HSMNames) error {
	if want.VaultEntry {
		added := vaultAdded(self.HSMActive, names.Local)
		if len(added) == 0 {
			return fmt.Errorf("no new HSM is configured after the Vault block (hsm_active: %s; configured before: %s)", orNone(self.HSMActive), orNone(names.Local))
		}
		if missing := minus(added, self.HSM); len(missing) > 0 {
			return &MissingEntryError{Sealed: slices.Clone(self.HSM), Active: slices.Clone(self.HSMActive), Vault: missing}
		}
	}
	if want.NoLocalHSM {
		if still := intersect(self.HSMActive, names.Local); len(still) > 0 {
			return &LocalStillError{Still: still, Active: slices.Clone(self.HSMActive)}
		}
	}
	return nil
}
