package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote"
)

// Target is one node as a rollout sees it.
type Target struct {
	Name       string
	Node       remote.Node
	API        NodeAPI
	ConfigPath string
	EnvPath    string
	Unit       string
	BackupDir  string
	// Addrs identify the node in the key manager's cluster view.
	Addrs []string
}

// Facts is what was read from one node before planning.
type Facts struct {
	Name       string
	Files      NodeFiles
	ConfigInfo remote.FileInfo
	EnvInfo    remote.FileInfo
	Unit       systemd.UnitState
	ReadyErr   error
	Cluster    *kmsapi.ClusterStatus
	ClusterErr error
}

// GatherFacts reads every node's files, unit and health, at most parallel at
// a time. File errors are fatal (nothing can be planned without them);
// health problems are recorded for the preflight to judge.
func GatherFacts(ctx context.Context, targets []*Target, parallel int) ([]Facts, error) {
	out := make([]Facts, len(targets))
	err := remote.ForEach(targets, parallel, func(i int, t *Target) (err error) {
		out[i], err = gatherOne(ctx, t)
		return err
	})
	return out, err
}

func gatherOne(ctx context.Context, t *Target) (Facts, error) {
	f := Facts{Name: t.Name, Files: NodeFiles{Name: t.Name, ConfigPath: t.ConfigPath, EnvPath: t.EnvPath}}
	cfg, info, err := t.Node.ReadFile(ctx, t.ConfigPath)
	if err != nil {
		return f, fmt.Errorf("node %s: read %s: %w", t.Name, t.ConfigPath, err)
	}
	f.Files.Config, f.ConfigInfo, f.Files.ConfigMode = cfg, info, info.Mode.Perm()
	env, einfo, err := t.Node.ReadFile(ctx, t.EnvPath)
	switch {
	case isNotExist(err):
		f.Files.EnvMissing = true
	case err != nil:
		return f, fmt.Errorf("node %s: read %s: %w", t.Name, t.EnvPath, err)
	default:
		f.Files.Env, f.EnvInfo = env, einfo
	}
	if f.Unit, err = systemd.ReadUnit(ctx, t.Node, t.Unit); err != nil {
		return f, err
	}
	f.ReadyErr = t.API.Ready(ctx)
	f.Cluster, f.ClusterErr = t.API.ClusterStatus(ctx)
	if cs := f.Cluster; cs != nil {
		if self, ok := findNode(cs, t.Addrs); ok {
			f.Files.Role = self.Role
		}
	}
	return f, nil
}

// CheckHealth is the preflight's cluster judgement: every unit running and
// ready, and with an API key a leader and no node down.
func CheckHealth(facts []Facts, hasAPIKey bool) error {
	var errs []error
	for _, f := range facts {
		if !f.Unit.Running() {
			errs = append(errs, fmt.Errorf("node %s: unit is %s", f.Name, f.Unit))
		}
		if f.ReadyErr != nil {
			errs = append(errs, fmt.Errorf("node %s: not ready: %w", f.Name, f.ReadyErr))
		}
		if !hasAPIKey {
			continue
		}
		if f.ClusterErr != nil {
			errs = append(errs, fmt.Errorf("node %s: cluster status: %w", f.Name, f.ClusterErr))
			continue
		}
		if len(f.Cluster.Down) > 0 {
			errs = append(errs, fmt.Errorf("node %s sees nodes down: %s", f.Name, formatDown(f.Cluster.Down)))
		}
		if _, ok := leaderOf(f.Cluster); !ok {
			errs = append(errs, fmt.Errorf("node %s sees no leader", f.Name))
		}
	}
	return errors.Join(errs...)
}

// PlanFromFacts orders the nodes (leader last, from any node's cluster view)
// and plans every node's edits.
func PlanFromFacts(facts []Facts, targets []*Target, d Desired) (*Plan, error) {
	leaderHost := ""
	for _, f := range facts {
		if f.Cluster == nil {
			continue
		}
		if l, ok := leaderOf(f.Cluster); ok {
			leaderHost = l.Host
			break
		}
	}
	addrs := make([]NodeAddr, len(targets))
	files := make([]NodeFiles, len(facts))
	for i, t := range targets {
		addrs[i] = NodeAddr{Name: t.Name, Addrs: t.Addrs}
	}
	for i, f := range facts {
		files[i] = f.Files
	}
	order, source, leader := RestartOrder(addrs, leaderHost)
	return BuildPlan(files, d, order, source, leader)
}
