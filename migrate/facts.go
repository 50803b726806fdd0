package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	// ConfigSet and EnvSet: the inventory names these paths itself, so a
	// unit that uses others is refused (ResolveUnitFiles).
	ConfigSet, EnvSet bool
	// Addrs identify the node in the key manager's cluster view (see
	// NodeAddrs); GatherFacts adds the --host of the node's daemon options.
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
		if h := DaemonHost(env); h != "" && !slices.Contains(t.Addrs, h) {
			t.Addrs = append(t.Addrs, h)
		}
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

// CheckHealth is the preflight's cluster judgement, with the gate's rules
// (health.go): every unit running and ready, and with an API key each
// node's view healthy and the node itself in it.
func CheckHealth(facts []Facts, targets []*Target, hasAPIKey bool) error {
	var errs []error
	for i, f := range facts {
		if err := JudgeUnit("unit", f.Unit); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", f.Name, err))
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
		if _, err := JudgeCluster(f.Cluster, targets[i].Addrs, Want{}, nil); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", f.Name, err))
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
