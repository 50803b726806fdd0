package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
)

// PhasePurge is the last phase of a migration: the local HSM's sealed root
// key entries are removed (RemoveHSM), so an old copy of the local key and
// a copy of a volume can no longer unseal it.
const PhasePurge = "purge"

// HSMAdmin is the part of a node's API that changes the cluster's sealed
// root key entries. Both commands are cluster-wide writes: sent to one node,
// they act on every node (and need every node up).
type HSMAdmin interface {
	RemoveHSM(ctx context.Context, name string) error
	AddHSM(ctx context.Context, name string, overwrite bool) error
}

// Why a purge is skipped (the summary's local_entry says it too).
const (
	skipKeepLocalHSM   = "--keep-local-hsm: the local HSM stays configured"
	skipKeepLocalEntry = "--keep-local-entry"
	skipNoAPIKey       = "no API key: RemoveHSM needs one (MINIO_KMS_API_KEY)"
)

// PurgeSkip says why the purge step will not run ("" when it will).
func PurgeSkip(d Desired, hasAPIKey bool) string {
	switch {
	case d.KeepLocalHSM:
		return skipKeepLocalHSM
	case d.KeepLocalEntry:
		return skipKeepLocalEntry
	case !hasAPIKey:
		return skipNoAPIKey
	}
	return ""
}

// PurgeView is what the purge knows of one node: its own cluster entry and
// which HSMs are local (this run's names, else the newest run record).
type PurgeView struct {
	Node  string
	Self  kmsapi.NodeStatus
	View  *kmsapi.ClusterStatus
	Local []string
}

// PurgeTargets returns a node's local HSMs whose entries the purge removes.
// The local HSMs are those configured before the change (known from this
// run or an earlier run's record); with neither, by difference: the HSMs
// that hold a sealed entry but are no longer configured.
func PurgeTargets(self kmsapi.NodeStatus, names *HSMNames, rec *HSMNames) []string {
	var local []string
	if names != nil {
		local = names.Local
	}
	if rec != nil {
		local = union(local, rec.Local)
	}
	if len(local) > 0 {
		return slices.Clone(local)
	}
	return minus(self.HSM, self.HSMActive)
}

// purgeSet is every node's purge targets together.
func purgeSet(views []PurgeView) []string {
	var set []string
	for _, v := range views {
		set = union(set, v.Local)
	}
	slices.Sort(set)
	return set
}

// holders lists the nodes that still hold a sealed entry of one of set.
func holders(views []PurgeView, set []string) []string {
	var out []string
	for _, v := range views {
		if len(intersect(v.Self.HSM, set)) > 0 {
			out = append(out, v.Node)
		}
	}
	return out
}

// CheckPurgeable is the rule that makes RemoveHSM safe, checked on every
// node before it is sent: every node up in the node's view, none of set
// still configured (the cluster runs on Vault alone), and another configured
// HSM with a sealed entry left to unseal with.
func CheckPurgeable(views []PurgeView, set []string, size int) error {
	var errs []error
	for _, v := range views {
		if err := JudgeView(v.View, size); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w: RemoveHSM is a cluster-wide write and needs every node up", v.Node, err))
			continue
		}
		if still := intersect(v.Self.HSMActive, set); len(still) > 0 {
			errs = append(errs, fmt.Errorf("node %s still has the local HSM configured (%s in hsm_active): it does not run on Vault alone; finish stage 2 (kmsctl hsm enable-vault) first", v.Node, strings.Join(still, ", ")))
			continue
		}
		if other := minus(intersect(v.Self.HSM, v.Self.HSMActive), set); len(other) == 0 {
			errs = append(errs, fmt.Errorf("node %s has no sealed entry of another configured HSM (hsm: %s; hsm_active: %s): removing the local entry would leave it unable to unseal", v.Node, orNone(v.Self.HSM), orNone(v.Self.HSMActive)))
		}
	}
	return errors.Join(errs...)
}

// PurgeError means the cluster runs on Vault but the local HSM's sealed
// entry is still (or again) on some node: the old key can still unseal a
// copy of those volumes. Nothing is broken; the message says what to do.
type PurgeError struct {
	Node  string
	Cause error
	// Removed: RemoveHSM succeeded on at least one node.
	Removed bool
	// Recreated: a restart brought the removed entry back.
	Recreated bool
	Explain   string
}

func (e *PurgeError) Error() string {
	state := "the local entry was not removed"
	switch {
	case e.Recreated:
		state = "the removed local entry came back at start-up"
	case e.Removed:
		state = "the local entry was removed on some nodes only"
	}
	msg := fmt.Sprintf("purge of the local HSM entry at node %s: %v; %s; the cluster runs on Vault", e.Node, e.Cause, state)
	if e.Explain != "" {
		msg += "; " + e.Explain
	}
	return msg
}

func (e *PurgeError) Unwrap() error { return e.Cause }

// purgeRefused is a purge refused before any RemoveHSM: the caller turns it
// into a preflight failure (nothing changed in the run) or a PurgeError.
type purgeRefused struct{ err error }

func (e *purgeRefused) Error() string {
	return "purge refused, nothing was removed: " + e.err.Error()
}
func (e *purgeRefused) Unwrap() error { return e.err }
