package remote

import "context"

// Target is everything needed to reach one node over SSH. It is filled from
// the inventory by the caller, so this package does not depend on the
// inventory's file format.
type Target struct {
	// Name is the node's inventory name (used in messages and known_hosts prompts).
	Name string
	// Address is the host name or IP address to connect to.
	Address string
	// Port is the SSH port (22 when zero).
	Port int
	// User is the login user.
	User string
	// IdentityFile is a private key file; empty means ssh-agent only.
	IdentityFile string
	// KnownHosts is the known_hosts file used to verify the host key.
	KnownHosts string
	// Sudo runs privileged commands through sudo when User is not root.
	Sudo bool
	// ProxyJump, when set, is the bastion the connection goes through.
	ProxyJump *Target
}

// Dialer opens Nodes. The SSH implementation lives in this package; tests
// substitute a fake.
type Dialer interface {
	Dial(ctx context.Context, t Target) (Node, error)
}
