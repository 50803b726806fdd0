package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/remote"
)

// DefaultBackupDir is where backups live on a node: outside /etc, so the key
// manager and systemd never load them.
const DefaultBackupDir = "/var/lib/kmsctl/backups"

// BackupEntry records one file saved before its first change in a run.
type BackupEntry struct {
	Path   string          `json:"path"`
	Backup string          `json:"backup"`
	Digest string          `json:"sha256"`
	Info   remote.FileInfo `json:"info"`
	// HoldsHSMKey marks backups that are copies of the local HSM key.
	HoldsHSMKey bool      `json:"holds_hsm_key"`
	Saved       time.Time `json:"saved"`
}

// Manifest lists a run's backups on one node; rollback reads it.
type Manifest struct {
	Run     string        `json:"run"`
	Node    string        `json:"node"`
	Entries []BackupEntry `json:"entries"`
	// HSMs records the node's HSM names as the run told them apart, so a
	// later run (or `kmsctl status`) need not guess which one is local.
	HSMs *HSMNames `json:"hsms,omitempty"`
	// Purged lists the HSMs whose sealed entries the run removed (RemoveHSM).
	Purged []string `json:"purged,omitempty"`
}

// RunBackupDir is the per-run directory, named with the run id.
func RunBackupDir(base, run string) string { return path.Join(base, run) }

// backupName turns /etc/default/minkms into etc_default_minkms.
func backupName(p string) string {
	return strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "_")
}

// backupOps returns the batch operations that save the step's files not
// yet backed up in this run (root-only 0600, the first copy of a file is
// never overwritten: that is the original) and record them in the run's
// manifest on the node, with the manifest as it will be and each file's
// entry. m is the manifest as it is; names (may be nil) are the node's
// HSM names, recorded with the new entries. No operation when every file
// has its copy already.
func backupOps(m Manifest, base, run, node string, edits []fileEdit, now time.Time, names *HSMNames) ([]remote.FileOp, Manifest, []BackupEntry) {
	dir := RunBackupDir(base, run)
	next := m
	next.Entries = slices.Clone(m.Entries)
	var ops []remote.FileOp
	entries := make([]BackupEntry, len(edits))
	for i, e := range edits {
		if j := slices.IndexFunc(next.Entries, func(b BackupEntry) bool { return b.Path == e.path }); j >= 0 {
			entries[i] = next.Entries[j]
			continue
		}
		b := BackupEntry{Path: e.path, Backup: path.Join(dir, backupName(e.path)), Digest: Digest(e.old), Info: e.info, HoldsHSMKey: e.holdsKey, Saved: now.UTC()}
		entries[i] = b
		next.Entries = append(next.Entries, b)
		ops = append(ops, remote.FileOp{Kind: remote.OpCreate, Path: b.Backup, Data: e.old, Opts: remote.WriteOptions{Mode: 0o600}})
	}
	if len(ops) == 0 {
		return nil, m, entries
	}
	next.Run, next.Node = run, node
	if names != nil {
		next.HSMs = names
	}
	ops = append([]remote.FileOp{{Kind: remote.OpMkdirPrivate, Path: dir}}, ops...)
	return append(ops, manifestOp(dir, next)), next, entries
}

// manifestOp writes the manifest into the run's backup directory.
func manifestOp(dir string, m Manifest) remote.FileOp {
	b, _ := json.MarshalIndent(m, "", "  ")
	return remote.FileOp{Kind: remote.OpWrite, Path: path.Join(dir, "manifest.json"), Data: append(b, '\n'), Opts: remote.WriteOptions{Mode: 0o600}}
}

// ReadManifest returns the run's manifest on a node (empty if none yet).
func ReadManifest(ctx context.Context, n remote.Node, base, run string) (Manifest, error) {
	b, _, err := n.ReadFile(ctx, path.Join(RunBackupDir(base, run), "manifest.json"))
	if isNotExist(err) {
		return Manifest{Run: run, Node: n.Name()}, nil
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("node %s: read backup manifest of run %s: %w", n.Name(), run, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("node %s: backup manifest of run %s is corrupt: %w", n.Name(), run, err)
	}
	return m, nil
}

func writeManifest(ctx context.Context, n remote.Node, dir string, m Manifest) error {
	op := manifestOp(dir, m)
	if err := n.WriteFileAtomic(ctx, op.Path, op.Data, op.Opts); err != nil {
		return fmt.Errorf("node %s: write backup manifest: %w", n.Name(), err)
	}
	return nil
}

// DeleteKeyBackups removes the run's backups that hold the HSM key and
// updates the manifest; the others stay for `kmsctl hsm rollback`.
func DeleteKeyBackups(ctx context.Context, n remote.Node, base, run string) (int, error) {
	m, err := ReadManifest(ctx, n, base, run)
	if err != nil {
		return 0, err
	}
	kept := m.Entries[:0]
	removed := 0
	for _, e := range m.Entries {
		if !e.HoldsHSMKey {
			kept = append(kept, e)
			continue
		}
		res, err := n.Run(ctx, remote.Command{Args: []string{"rm", "-f", "--", e.Backup}, Sudo: true})
		if err != nil || res.ExitCode != 0 {
			return removed, fmt.Errorf("node %s: delete backup %s: %v %s", n.Name(), e.Backup, err, res.StderrLine())
		}
		removed++
	}
	m.Entries = kept
	if removed == 0 {
		return 0, nil
	}
	return removed, writeManifest(ctx, n, RunBackupDir(base, run), m)
}

// ListRuns returns the run ids that have a backup directory on the node.
func ListRuns(ctx context.Context, n remote.Node, base string) ([]string, error) {
	res, err := n.Run(ctx, remote.Command{Args: []string{"find", base, "-mindepth", "1", "-maxdepth", "1", "-type", "d", "-printf", "%f\\n"}, Sudo: true})
	if err != nil {
		return nil, fmt.Errorf("node %s: list backups: %w", n.Name(), err)
	}
	if res.ExitCode != 0 {
		if strings.Contains(string(res.Stderr), "No such file") {
			return nil, nil
		}
		return nil, fmt.Errorf("node %s: list backups: exit %d: %s", n.Name(), res.ExitCode, res.StderrLine())
	}
	return strings.Fields(string(res.Stdout)), nil
}

// LatestHSMRecord returns the HSM names the newest run recorded on the node,
// or nil when no run did (or the backups cannot be read: the caller then
// says it cannot tell rather than guess).
func LatestHSMRecord(ctx context.Context, n remote.Node, base string) *HSMNames {
	runs, err := ListRuns(ctx, n, base)
	if err != nil {
		return nil
	}
	sort.Sort(sort.Reverse(sort.StringSlice(runs)))
	for _, run := range runs {
		m, err := ReadManifest(ctx, n, base, run)
		if err == nil && m.HSMs != nil && len(m.HSMs.Local) > 0 {
			return m.HSMs
		}
	}
	return nil
}

// RecordPurge notes in the run's manifest on the node which HSMs' sealed
// entries the run removed.
func RecordPurge(ctx context.Context, n remote.Node, base, run string, hsms []string) error {
	m, err := ReadManifest(ctx, n, base, run)
	if err != nil {
		return err
	}
	dir := RunBackupDir(base, run)
	m.Purged = union(m.Purged, hsms)
	if err := remote.ApplyFiles(ctx, n, []remote.FileOp{{Kind: remote.OpMkdirPrivate, Path: dir}, manifestOp(dir, m)}); err != nil {
		return fmt.Errorf("record the purge: %w", err)
	}
	return nil
}
