package main

import (
	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
)

// writeLabFiles writes the files clients use: ssh_config, known_hosts, the
// three inventories and env.sh.
func writeLabFiles(l labdir.Layout, m *material, st *labdir.State, v labdir.VaultInfo) error {
	nodes := make([]labdir.Node, len(st.Nodes))
	keys := make([]labdir.HostKey, len(st.Nodes))
	for i, n := range st.Nodes {
		nodes[i] = labdir.Node{Name: n.Name, Address: n.Address}
		keys[i] = labdir.HostKey{Node: nodes[i], Key: m.hostKeys[i].Authorized}
	}
	if err := l.WriteSSHConfig(nodes); err != nil {
		return err
	}
	if err := l.WriteKnownHosts(keys); err != nil {
		return err
	}
	if err := l.WriteInventories(nodes, v); err != nil {
		return err
	}
	first := "https://" + node.Spec{Index: 1}.APIAddr()
	return l.WriteEnv(l.EnvVars(v, m.apiKey.Key, m.n, first, st.Variant))
}
