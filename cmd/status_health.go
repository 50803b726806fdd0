package cmd

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// judgeNode lists what is wrong with one node from its own probes.
func judgeNode(r *NodeReport) {
	if !r.SSH.Reachable {
		r.Problems = append(r.Problems, "ssh: "+r.SSH.Error)
		return
	}
	if r.Sudo != nil && r.Sudo.Mode == sudoFail {
		r.Problems = append(r.Problems, "sudo: "+r.Sudo.Error)
	}
	if u := r.Unit; u.Error != "" {
		r.Problems = append(r.Problems, "unit: "+u.Error)
	} else if err := migrate.JudgeUnit(u.Name, systemd.UnitState{ActiveState: u.ActiveState, SubState: u.SubState, MainPID: u.MainPID, NRestarts: u.Restarts}); err != nil {
		r.Problems = append(r.Problems, "unit "+err.Error())
	}
	r.Problems = append(r.Problems, fileProblems(r.Files)...)
	switch a := r.API; {
	case !a.Live:
		r.Problems = append(r.Problems, "key manager API not live: "+a.Error)
	case !a.Ready:
		r.Problems = append(r.Problems, "key manager not ready: "+a.Error)
	}
	if r.API.ClusterError != "" {
		r.Problems = append(r.Problems, "cluster status: "+r.API.ClusterError)
	}
}

func fileProblems(f *FilesReport) []string {
	var out []string
	if f.EnvError != "" {
		out = append(out, "env file: "+f.EnvError)
	}
	if f.ConfigError != "" {
		out = append(out, "config: "+f.ConfigError)
	}
	if both := []string{inventory.VaultBlockHashiCorp, inventory.VaultBlockShort}; slices.Contains(f.VaultBlocks, both[0]) && slices.Contains(f.VaultBlocks, both[1]) {
		out = append(out, "config has both Vault block spellings: "+strings.Join(both, " and "))
	}
	if f.EnvError == "" && f.ConfigError == "" && !f.LocalKey && len(f.VaultBlocks) == 0 {
		out = append(out, "no HSM configured: no local key and no Vault or OpenBao block")
	}
	return out
}

// buildCluster maps the first available cluster view onto the inventory,
// marks each node's membership and returns the cluster-wide problems.
func buildCluster(nodes []migrate.NodeAddr, reps []NodeReport, views []*kmsapi.ClusterStatus) (*ClusterView, []string) {
	src := slices.IndexFunc(views, func(v *kmsapi.ClusterStatus) bool { return v != nil })
	if src < 0 {
		return nil, nil
	}
	cs := views[src]
	cv := &ClusterView{Source: nodes[src].Name, Up: []ClusterMember{}, Down: []ClusterMember{}}
	var problems []string
	leaderID, hasLeader := cs.Leader()
	for _, id := range sortedIDs(cs.Up) {
		st := cs.Up[id]
		m := ClusterMember{ID: id, Host: st.Host, Role: st.Role, Version: st.Version, HSM: st.HSM, HSMActive: st.HSMActive}
		if i := migrate.MatchNode(nodes, st.Host); i >= 0 {
			m.Node = nodes[i].Name
			reps[i].Member = &MemberReport{ID: id, Role: st.Role, Leader: hasLeader && id == leaderID, HSM: orEmpty(st.HSM), HSMActive: orEmpty(st.HSMActive)}
		}
		if hasLeader && id == leaderID {
			cv.Leader = m.Node
			if cv.Leader == "" {
				cv.Leader = st.Host
			}
		}
		cv.Up = append(cv.Up, m)
	}
	for _, id := range sortedIDs(cs.Down) {
		m := ClusterMember{ID: id, Host: cs.Down[id]}
		if i := migrate.MatchNode(nodes, m.Host); i >= 0 {
			m.Node = nodes[i].Name
		}
		cv.Down = append(cv.Down, m)
		problems = append(problems, fmt.Sprintf("node %s is down in the cluster view", orStr(m.Node, m.Host)))
	}
	if !hasLeader {
		problems = append(problems, "the cluster has no leader that every node agrees on")
	}
	problems = append(problems, leaderDisagreements(nodes, views, cs)...)
	for i := range reps {
		if reps[i].SSH.Reachable && reps[i].Member == nil && !slices.ContainsFunc(cv.Down, func(m ClusterMember) bool { return m.Node == reps[i].Name }) {
			reps[i].Problems = append(reps[i].Problems, fmt.Sprintf("not up in the cluster view of %s", cv.Source))
		}
	}
	return cv, problems
}

// leaderDisagreements reports nodes whose own view names another leader
// than the reference view: the sign of a split cluster.
func leaderDisagreements(nodes []migrate.NodeAddr, views []*kmsapi.ClusterStatus, ref *kmsapi.ClusterStatus) []string {
	refID, refOK := ref.Leader()
	var out []string
	for i, v := range views {
		if v == nil || v == ref {
			continue
		}
		id, ok := v.Leader()
		if ok != refOK || id != refID {
			out = append(out, fmt.Sprintf("node %s sees another leader (%s) than the others: the cluster may be split", nodes[i].Name, leaderName(v, id, ok)))
		}
	}
	return out
}

func leaderName(v *kmsapi.ClusterStatus, id uint32, ok bool) string {
	if !ok {
		return "none"
	}
	return v.Up[id].Host
}

func sortedIDs[V any](m map[uint32]V) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	return ids
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clusterWarnings lists cluster members that the inventory does not name:
// kmsctl would never check or migrate them.
func clusterWarnings(cv *ClusterView) []string {
	if cv == nil {
		return nil
	}
	var out []string
	for _, m := range append(slices.Clone(cv.Up), cv.Down...) {
		if m.Node == "" {
			out = append(out, fmt.Sprintf("cluster member %d (%s) is not in the inventory", m.ID, m.Host))
		}
	}
	return out
}

// nameHSMs tells each member's local and external HSMs apart with the
// rollout's rule (by difference, never by name: migrate.IdentifyHSMs),
// using the node's run record when it has one. A node the rule cannot
// settle says so instead of guessing.
func nameHSMs(reps []NodeReport, records []*migrate.HSMNames) {
	var views []migrate.HSMView
	for i, r := range reps {
		if r.Member == nil || r.Files == nil {
			continue
		}
		views = append(views, migrate.HSMView{Node: r.Name, Active: r.Member.HSMActive,
			VaultBlock: len(r.Files.VaultBlocks) > 0, LocalKey: r.Files.LocalKey, Recorded: records[i]})
	}
	names, _ := migrate.IdentifyHSMs(views)
	for i := range reps {
		m := reps[i].Member
		if m == nil {
			continue
		}
		n, ok := names[reps[i].Name]
		if !ok {
			m.HSMNote = "cannot tell which HSM is local: the node has both a Vault block and the local key, no kmsctl run recorded their names on it, and no other node has only one"
			continue
		}
		m.LocalHSMs, m.ExternalHSMs = orEmpty(n.Local), orEmpty(n.Vault)
	}
}
