package labdir

import (
	"fmt"
	"strings"
)

// HostKey pairs a node with its ed25519 host public key ("ssh-ed25519 AAAA...").
type HostKey struct {
	Node
	Key string
}

// WriteKnownHosts writes plain (unhashed) known_hosts lines for every node, so
// strict host key checking works without any scanning.
func (l Layout) WriteKnownHosts(keys []HostKey) error {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k.Address, k.Key)
	}
	return WriteFileAtomic(l.KnownHosts(), []byte(b.String()), 0o644)
}

// WriteSSHConfig writes an OpenSSH client config with a Host entry per node and a
// "bastion" alias for the first node (for ProxyJump tests), user root, strict keys.
func (l Layout) WriteSSHConfig(nodes []Node) error {
	var b strings.Builder
	for i, n := range nodes {
		hosts := n.Name
		if i == 0 {
			hosts += " bastion"
		}
		fmt.Fprintf(&b, "Host %s\n  HostName %s\n", hosts, n.Address)
	}
	fmt.Fprintf(&b, `Host *
  User root
  Port 22
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  HostKeyAlgorithms ssh-ed25519
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
`, l.ClientKey(), l.KnownHosts())
	return WriteFileAtomic(l.SSHConfig(), []byte(b.String()), 0o644)
}
