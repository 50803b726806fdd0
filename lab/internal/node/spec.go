// Package node builds and runs the lab's key manager nodes: each one is a real
// systemd booted as PID 1 in its own pid, mount, uts, cgroup and network
// namespaces, with overlays over the host's /etc, /var, /root and /home, a real
// sshd, the lab users and the minkms unit (docs/design.md, "Node file system").
package node

import (
	"fmt"
	"strconv"
)

// Lab network constants (docs/design.md, "The lab network").
const (
	Bridge     = "kmslab0"
	HostAddr   = "10.213.0.1"
	PrefixLen  = 24
	APIPort    = 7373
	VaultPort  = 8200
	NetnsStem  = "kmslab-kms-"
	VethStem   = "kmslab-v"
	CgroupName = "kmslab"
	// MaxNodes keeps addresses inside 10.213.0.11..10.213.0.250.
	MaxNodes = 240
)

// Spec names one node: everything derives from its 1-based index.
type Spec struct {
	Index int
}

// Name is the node name and hostname, "kms-<i>".
func (s Spec) Name() string { return "kms-" + strconv.Itoa(s.Index) }

// Address is the node's IPv4 address on the bridge, 10.213.0.<10+i>.
func (s Spec) Address() string { return fmt.Sprintf("10.213.0.%d", 10+s.Index) }

// Netns is the named network namespace, "kmslab-kms-<i>".
func (s Spec) Netns() string { return NetnsStem + strconv.Itoa(s.Index) }

// Veth is the host side of the node's veth pair, "kmslab-v<i>".
func (s Spec) Veth() string { return VethStem + strconv.Itoa(s.Index) }

// peerVeth is the node side's temporary name before it moves into the namespace.
func (s Spec) peerVeth() string { return "kmslab-p" + strconv.Itoa(s.Index) }

// APIAddr is host:port of the node's key manager API.
func (s Spec) APIAddr() string { return s.Address() + ":" + strconv.Itoa(APIPort) }

// Specs returns the specs of nodes 1..n.
func Specs(n int) []Spec {
	out := make([]Spec, n)
	for i := range out {
		out[i] = Spec{Index: i + 1}
	}
	return out
}
