package migrate

import (
	"context"
	"fmt"
	"slices"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/envfile"
)

// baseline records, before the first change, every node's state (the first
// rung of its restore ladder) and which of its HSMs are local, and puts the
// names seen in the run log.
func (r *runner) baseline(ctx context.Context, facts []Facts) error {
	for _, f := range facts {
		t := r.byName[f.Name]
		r.startHistory(f.Name, StateOriginal, []fileState{
			{path: t.ConfigPath, data: f.Files.Config, opts: writeOpts(f.ConfigInfo)},
			{path: t.EnvPath, data: f.Files.Env, opts: writeOpts(f.EnvInfo)},
		}, Want{ClusterSize: len(r.targets)})
	}
	if !r.opts.HasAPIKey {
		return nil
	}
	views := make([]HSMView, 0, len(facts))
	for _, f := range facts {
		v, err := r.hsmView(ctx, f)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	names, err := IdentifyHSMs(views)
	if err != nil {
		return err
	}
	for node, n := range names {
		r.hsms[node] = &n
		r.emit(Event{Phase: PhasePreflight, Node: node, Step: "hsm", Result: ResultOK, Message: describeHSMs(n)})
	}
	return nil
}

// hsmView gathers one node's HSM facts; the run record is read only when
// the node alone cannot settle it.
func (r *runner) hsmView(ctx context.Context, f Facts) (HSMView, error) {
	t := r.byName[f.Name]
	v := HSMView{Node: f.Name}
	self, ok := findNode(f.Cluster, t.Addrs)
	if !ok {
		return v, fmt.Errorf("node %s: not found in its own cluster view (addresses %v): its HSMs cannot be recorded", f.Name, t.Addrs)
	}
	v.Active = slices.Clone(self.HSMActive)
	ins, err := configedit.Inspect(f.Files.Config)
	if err != nil {
		return v, fmt.Errorf("node %s: %s: %w", f.Name, t.ConfigPath, err)
	}
	v.VaultBlock = ins.HasVault()
	if v.LocalKey, err = envfile.HasKey(f.Files.Env, EnvKey); err != nil {
		return v, fmt.Errorf("node %s: %s: %w", f.Name, t.EnvPath, err)
	}
	if v.VaultBlock && v.LocalKey {
		v.Recorded = LatestHSMRecord(ctx, t.Node, t.BackupDir)
	}
	return v, nil
}

// describeHSMs is the run log's line for a node's HSM names.
func describeHSMs(n HSMNames) string {
	msg := "local (configured before the change): " + orNone(n.Local)
	if len(n.Vault) > 0 {
		msg += "; external (Vault): " + orNone(n.Vault)
	}
	return msg
}

// hsmNames returns the node's HSM names (nil when unknown: no API key).
func (r *runner) hsmNames(name string) *HSMNames {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.hsms[name]
	if !ok {
		return nil
	}
	c := HSMNames{Local: slices.Clone(n.Local), Vault: slices.Clone(n.Vault)}
	return &c
}

// learnVault records the Vault HSM's name the first time a gate sees it.
func (r *runner) learnVault(name string, vault []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.hsms[name]
	if !ok || slices.Equal(n.Vault, vault) {
		return
	}
	n.Vault = slices.Clone(vault)
	r.opts.Events.Emit(Event{Schema: EventSchema, Run: r.opts.Run, Time: r.opts.Now().UTC(), Type: "step", Node: name, Step: "hsm", Result: ResultOK,
		Message: describeHSMs(*n)})
}
