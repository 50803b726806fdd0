package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/envfile"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
)

// PhaseReAdd is the part of a rollback after a purge that gives the local
// HSM its sealed entry back: the key the operator supplied goes into every
// node's env file (the Vault block stays, so each restart unseals through
// Vault), then AddHSM seals the root key for the local HSM on every node.
const PhaseReAdd = "re-add-local"

// ErrPurged means the rollback would put a node back on its local HSM alone
// although that HSM's sealed entry was removed (purge): the local key can no
// longer unseal it.
var ErrPurged = errors.New("the local HSM's sealed root key entry was removed (purge): the local key can no longer unseal the nodes")

// restoresLocalOnly reports whether the rollback leaves the node with no
// Vault block (its original files): it must then unseal with the local HSM.
func (r *runner) restoresLocalOnly(ctx context.Context, t *Target, m Manifest) (bool, error) {
	cfg, _, err := r.restoredFiles(ctx, t, m)
	if err != nil {
		return false, err
	}
	ins, err := configedit.Inspect(cfg)
	if err != nil {
		return false, fmt.Errorf("node %s: backup of %s: %w", t.Name, t.ConfigPath, err)
	}
	return !ins.HasVault(), nil
}

// purgedLocal returns, for the nodes the rollback puts back on their local
// HSM alone, the local HSMs that no longer have a sealed entry there. The
// local names come from the run's manifest (or the purge's record); the
// entries from the node's own cluster view, else the purge record.
func (r *runner) purgedLocal(ctx context.Context, manifests map[string]Manifest) ([]string, error) {
	var missing []string
	var errs []error
	for _, t := range r.targets {
		m := manifests[t.Name]
		localOnly, err := r.restoresLocalOnly(ctx, t, m)
		if err != nil || !localOnly {
			errs = append(errs, err)
			continue
		}
		gone, err := r.localEntryGone(ctx, t, m)
		errs = append(errs, err)
		missing = union(missing, gone)
	}
	slices.Sort(missing)
	return missing, errors.Join(errs...)
}

// localEntryGone lists the node's local HSMs without a sealed entry.
func (r *runner) localEntryGone(ctx context.Context, t *Target, m Manifest) ([]string, error) {
	_, purged := PurgeRecord(ctx, t.Node, t.BackupDir)
	var local []string
	if m.HSMs != nil {
		local = m.HSMs.Local
	}
	local = union(local, purged)
	if !r.opts.HasAPIKey {
		return purged, nil // the record is all there is to go by
	}
	cs, err := t.API.ClusterStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %s: cluster status (to check the local HSM's entry): %w", t.Name, err)
	}
	self, ok := findNode(cs, t.Addrs)
	if !ok {
		return nil, fmt.Errorf("node %s: not found in its own cluster view", t.Name)
	}
	if len(local) == 0 {
		local = minus(self.HSM, self.HSMActive)
	}
	if len(local) > 0 && len(intersect(self.HSM, local)) == 0 {
		return local, nil
	}
	return nil, nil
}

// checkSuppliedKey refuses a supplied key that is not an HSM key, or that
// differs from the key a kept env-file backup would put back (the entry
// AddHSM seals must be the one the restored files unseal with).
func (r *runner) checkSuppliedKey(ctx context.Context, manifests map[string]Manifest) error {
	key := r.opts.LocalKey
	if !strings.HasPrefix(key, "hsm:") || strings.ContainsAny(key, " \t\r\n\"'") {
		return errors.New("the supplied local HSM key is not an hsm:<algorithm>:<key> value")
	}
	for _, t := range r.targets {
		for _, e := range manifests[t.Name].Entries {
			if e.Path != t.EnvPath {
				continue
			}
			b, _, err := t.Node.ReadFile(ctx, e.Backup)
			if err != nil {
				return fmt.Errorf("node %s: read backup %s: %w", t.Name, e.Backup, err)
			}
			if v, ok, err := envfile.Value(b, EnvKey); err == nil && ok && v != key {
				return fmt.Errorf("node %s: the supplied key differs from the one in its env-file backup %s (not shown): the restored node could not unseal", t.Name, e.Backup)
			}
		}
	}
	return nil
}

// reAddLocal gives every node the supplied key (one node at a time, each
// restart gated: it unseals through Vault, its Vault block still in place),
// then sends AddHSM for each local HSM and waits until every node lists it.
func (r *runner) reAddLocal(ctx context.Context, names []string) error {
	if !r.opts.HasAPIKey {
		return &PreflightError{Err: fmt.Errorf("refusing to roll back: %w; AddHSM needs an API key (MINIO_KMS_API_KEY)", ErrPurged)}
	}
	sub := newRunner(r.targets, r.opts)
	sub.opts.Run = r.opts.Run + "-readd"
	for _, t := range r.targets {
		if err := sub.keyStep(ctx, t); err != nil {
			return err
		}
	}
	views, err := r.purgeViews(ctx)
	if err != nil {
		return &HaltError{Node: "cluster", Phase: PhaseReAdd, Cause: err, Restored: true, State: "local key configured, Vault block kept",
			Explain: "every node still unseals through Vault; fix the cause and run the rollback again"}
	}
	admin, via := r.hsmAdmin(views)
	for _, name := range names {
		r.emit(Event{Phase: PhaseReAdd, Node: via, Step: "add-hsm", Result: ResultStart, Message: "AddHSM " + name})
		if admin == nil {
			return &HaltError{Node: via, Phase: PhaseReAdd, Cause: errors.New("the node API client cannot send AddHSM"), Restored: true}
		}
		if err := admin.AddHSM(ctx, name, false); err != nil && !errors.Is(err, kmsapi.ErrHSMConflict) {
			return &HaltError{Node: via, Phase: PhaseReAdd, Cause: err, Restored: true, State: "local key configured, Vault block kept",
				Explain: "no file was rolled back: every node still unseals through Vault; a node down or a key that is not the original local key makes AddHSM fail"}
		}
	}
	return r.waitReAdded(ctx, names)
}

// keyStep writes the supplied key into the node's env file and gates it.
func (r *runner) keyStep(ctx context.Context, t *Target) error {
	cur, info, err := t.Node.ReadFile(ctx, t.EnvPath)
	if err != nil && !isNotExist(err) {
		return &HaltError{Node: t.Name, Phase: PhaseReAdd, Cause: err, Unchanged: true}
	}
	if v, ok, _ := envfile.Value(cur, EnvKey); ok && v == r.opts.LocalKey {
		return nil
	}
	res, err := envfile.RemoveKey(cur, EnvKey)
	if err != nil {
		return &HaltError{Node: t.Name, Phase: PhaseReAdd, Cause: fmt.Errorf("%s: %w", t.EnvPath, err), Unchanged: true}
	}
	next := slices.Clone(res.Output)
	if len(next) > 0 && next[len(next)-1] != '\n' {
		next = append(next, '\n')
	}
	next = append(next, EnvKey+"="+r.opts.LocalKey+"\n"...)
	r.startHistory(t.Name, StateBefore, []fileState{{path: t.EnvPath, data: cur, opts: writeOpts(info)}}, Want{ClusterSize: len(r.targets)})
	return r.runStep(ctx, nodeStep{t: t, phase: PhaseReAdd, label: "local key back, Vault block kept",
		edits: []fileEdit{{path: t.EnvPath, old: cur, new: next, info: info, secret: true}},
		want:  Want{ClusterSize: len(r.targets)}, explain: rollbackExplain})
}

// waitReAdded polls until every node lists every re-added entry.
func (r *runner) waitReAdded(ctx context.Context, names []string) error {
	missing, err := r.pollViews(ctx, func(views []PurgeView) []string {
		var out []string
		for _, v := range views {
			if len(minus(names, v.Self.HSM)) > 0 {
				out = append(out, v.Node)
			}
		}
		return out
	})
	if err == nil && len(missing) == 0 {
		r.emit(Event{Phase: PhaseReAdd, Step: "verify", Result: ResultOK, Message: "every node lists " + strings.Join(names, ", ") + " in hsm again"})
		return nil
	}
	if err == nil {
		err = fmt.Errorf("%s do not list %s in hsm after AddHSM", strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	return &HaltError{Node: firstOr(missing, "cluster"), Phase: PhaseReAdd, Cause: err, Restored: true, State: "local key configured, Vault block kept",
		Explain: "no file was rolled back: every node still unseals through Vault"}
}

// rollbackPurged runs before any file is rolled back: when the restored
// files would leave a node on a local HSM whose entry a purge removed, it
// refuses (a preflight failure) unless the operator supplied the key, and
// then re-adds the entry first.
func (r *runner) rollbackPurged(ctx context.Context, manifests map[string]Manifest) error {
	gone, err := r.purgedLocal(ctx, manifests)
	if err != nil {
		return &PreflightError{Err: err}
	}
	if len(gone) == 0 {
		return nil
	}
	if r.opts.LocalKey == "" {
		return &PreflightError{Err: fmt.Errorf("refusing to roll back: %w (%s); the restored files would leave the nodes on the local HSM alone, unable to start. Supply the local key again (--local-key-file FILE, or - for stdin) so that kmsctl re-adds its entry with AddHSM first, or stay on Vault", ErrPurged, strings.Join(gone, ", "))}
	}
	if err := r.checkSuppliedKey(ctx, manifests); err != nil {
		return &PreflightError{Err: err}
	}
	return r.reAddLocal(ctx, gone)
}
