package remote

import "context"

// Target is everything needed to reach one node over SSH. It is filled from
// the inventory by the caller, so this package does not depend on the
// inventory's file format. Zero fields are what the inventory left unset:
// the dialer fills them from the OpenSSH client config (ssh_config), then
// from OpenSSH's defaults, so the inventory wins where it sets a value.
type Target struct {
	// Name is the node's inventory name (used in messages and known_hosts prompts).
	Name string
	// Address is the host name, IP address or ssh_config Host alias.
	Address string
	// Port is the SSH port (ssh_config Port, else 22, when zero).
	Port int
	// User is the login user (ssh_config User, else the local user).
	User string
	// IdentityFile is a private key file; empty means ssh_config's
	// IdentityFile, else OpenSSH's default key files, plus ssh-agent.
	IdentityFile string
	// KnownHosts is the known_hosts file used to verify the host key (and
	// to record accepted keys); empty means UserKnownHostsFile, else
	// ~/.ssh/known_hosts. The global known_hosts files are read too.
	KnownHosts string
	// Sudo runs privileged commands through sudo when User is not root.
	Sudo bool
	// ProxyJump, when set, is the bastion the connection goes through; nil
	// means ssh_config's ProxyJump, if any.
	ProxyJump *Target
	// SSHConfig is the OpenSSH client config of this node ("" = the
	// dialer's SSHOptions.SSHConfig; "none" = none).
	SSHConfig string

	depth int // hops between the operator and this target
}

// Dialer opens Nodes. The SSH implementation lives in this package; tests
// substitute a fake.
type Dialer interface {
	Dial(ctx context.Context, t Target) (Node, error)
}
