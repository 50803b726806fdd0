package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/envfile"
)

// Rollback puts back the files a run changed, one node at a time (followers
// first, as the nodes' order is given), each restart gated like a rollout
// step. A node whose restored files would leave it without any HSM (no
// local key and no Vault block) is refused: that would make it unable to
// unseal.
func Rollback(ctx context.Context, targets []*Target, opts Options) (*Summary, error) {
	r := newRunner(targets, opts)
	r.start = r.opts.Now()
	r.emit(Event{Type: "run", Phase: PhaseRollback, Result: ResultStart, Message: "rollback of run " + opts.Run})
	err := r.rollback(ctx)
	return r.finish(err), err
}

func (r *runner) rollback(ctx context.Context) error {
	return r.withLocks(ctx, r.rollbackLocked)
}

func (r *runner) rollbackLocked(ctx context.Context) error {
	manifests, err := r.readManifests(ctx)
	if err != nil {
		return &PreflightError{Err: err}
	}
	if err := r.rollbackPurged(ctx, manifests); err != nil {
		return err
	}
	for _, t := range r.targets {
		if err := interrupted(ctx); err != nil {
			return err
		}
		if err := r.rollbackNode(ctx, t, manifests[t.Name]); err != nil {
			return err
		}
	}
	return nil
}

// readManifests loads every node's manifest and refuses unsafe restores
// before anything is touched.
func (r *runner) readManifests(ctx context.Context) (map[string]Manifest, error) {
	out := map[string]Manifest{}
	found := false
	var errs []error
	for _, t := range r.targets {
		m, err := ReadManifest(ctx, t.Node, t.BackupDir, r.opts.Run)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[t.Name] = m
		found = found || len(m.Entries) > 0
		errs = append(errs, r.checkRestorable(ctx, t, m))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no backups of run %s on any node (the HSM-key backups are deleted after a successful run unless --keep-backups)", r.opts.Run)
	}
	return out, nil
}

// checkRestorable makes sure the node would still have an HSM after the restore.
func (r *runner) checkRestorable(ctx context.Context, t *Target, m Manifest) error {
	cfg, env, err := r.restoredFiles(ctx, t, m)
	if err != nil {
		return err
	}
	ins, err := configedit.Inspect(cfg)
	if err != nil {
		return fmt.Errorf("node %s: backup of %s: %w", t.Name, t.ConfigPath, err)
	}
	hasKey, err := envfile.HasKey(env, EnvKey)
	if err != nil {
		return fmt.Errorf("node %s: %s: %w", t.Name, t.EnvPath, err)
	}
	if !ins.HasVault() && !hasKey && r.opts.LocalKey == "" {
		if _, purged := PurgeRecord(ctx, t.Node, t.BackupDir); len(purged) > 0 {
			return fmt.Errorf("node %s: refusing to roll back: %w (%s, recorded on the node) and %s holds no %s, so the node could not unseal: supply the local key again (--local-key-file) so that kmsctl re-adds its entry with AddHSM first, or stay on Vault", t.Name, ErrPurged, strings.Join(purged, ", "), t.EnvPath, EnvKey)
		}
		return fmt.Errorf("node %s: refusing to roll back: the restored %s has no Vault block and %s holds no %s (its backup was deleted after the run), so the node could not unseal", t.Name, t.ConfigPath, t.EnvPath, EnvKey)
	}
	return nil
}

// restoredFiles returns what the config and env file would hold after the restore.
func (r *runner) restoredFiles(ctx context.Context, t *Target, m Manifest) (cfg, env []byte, err error) {
	read := func(path string) ([]byte, error) {
		for _, e := range m.Entries {
			if e.Path == path {
				b, _, err := t.Node.ReadFile(ctx, e.Backup)
				return b, err
			}
		}
		b, _, err := t.Node.ReadFile(ctx, path)
		if isNotExist(err) {
			return nil, nil
		}
		return b, err
	}
	if cfg, err = read(t.ConfigPath); err != nil {
		return nil, nil, fmt.Errorf("node %s: %w", t.Name, err)
	}
	if env, err = read(t.EnvPath); err != nil {
		return nil, nil, fmt.Errorf("node %s: %w", t.Name, err)
	}
	return cfg, env, nil
}

// rollbackNode restores one node's files and gates it: a node step to the
// backed-up files. If the node does not come up on them, the same restore
// as a rollout's puts back the state it was in before the rollback.
func (r *runner) rollbackNode(ctx context.Context, t *Target, m Manifest) error {
	ns := r.nodeSummary(t.Name)
	s := nodeStep{t: t, phase: PhaseRollback, label: StateOriginal, want: Want{ClusterSize: len(r.targets)}, explain: rollbackExplain, noBackup: true}
	var before []fileState
	for _, e := range m.Entries {
		data, _, err := t.Node.ReadFile(ctx, e.Backup)
		if err != nil {
			return &HaltError{Node: t.Name, Phase: PhaseRollback, Cause: fmt.Errorf("read backup %s: %w", e.Backup, err), Unchanged: true}
		}
		cur, info, err := t.Node.ReadFile(ctx, e.Path)
		if err == nil && Digest(cur) == e.Digest {
			continue
		}
		if err != nil && !isNotExist(err) {
			return &HaltError{Node: t.Name, Phase: PhaseRollback, Cause: fmt.Errorf("read %s: %w", e.Path, err), Unchanged: true}
		}
		if isNotExist(err) {
			info = e.Info
		}
		before = append(before, fileState{path: e.Path, data: cur, opts: writeOpts(info)})
		s.edits = append(s.edits, fileEdit{path: e.Path, old: cur, new: data, info: e.Info, holdsKey: e.HoldsHSMKey})
	}
	if len(s.edits) == 0 {
		ns.Stage1 = "unchanged"
		r.emit(Event{Phase: PhaseRollback, Node: t.Name, Step: "skip", Result: ResultSkip, Message: "files already as backed up"})
		return nil
	}
	r.startHistory(t.Name, StateBefore, before, Want{ClusterSize: len(r.targets)})
	if err := r.writeStep(context.WithoutCancel(ctx), s); err != nil {
		ns.Stage1 = stepResult(t.Name, err)
		return err
	}
	if err := r.restartAndGate(context.WithoutCancel(ctx), PhaseRollback, t, s.want); err != nil {
		ns.Stage1 = "restored"
		return r.restore(ctx, []string{t.Name}, PhaseRollback, err, rollbackExplain, false)
	}
	ns.Stage1 = "rolled back"
	r.emit(Event{Phase: PhaseRollback, Node: t.Name, Step: "gate", Result: ResultOK})
	return nil
}

func rollbackExplain(error, string) string {
	return "the node did not come up on its backed-up files, so it was put back as it was before the rollback; its journal is below"
}
