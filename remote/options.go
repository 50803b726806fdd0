package remote

import (
	"io"
	"time"
)

// SSHOptions tunes how an SSHDialer connects and how long it waits. The zero
// value is usable: every unset duration or count takes the default below, so
// callers only set what the operator asked to change.
type SSHOptions struct {
	// ConnectTimeout bounds the TCP connect plus the SSH handshake of each hop
	// (default 10s), so an unreachable node fails fast instead of hanging.
	ConnectTimeout time.Duration
	// KeepAliveInterval is how often a keepalive@openssh.com request is sent
	// (default 5s).
	KeepAliveInterval time.Duration
	// KeepAliveMaxMissed is how many intervals may pass without a reply before
	// the connection is declared dead and every pending operation fails
	// (default 3).
	KeepAliveMaxMissed int
	// CommandTimeout bounds one remote operation whose context has no deadline
	// (default 2m). A context deadline, when present, wins.
	CommandTimeout time.Duration
	// MaxSessions caps concurrent sessions on one connection (default 8), below
	// OpenSSH's MaxSessions of 10, so parallel operations queue instead of
	// being refused by the server.
	MaxSessions int
	// AcceptNewHostKeys is the explicit relaxation of host key checking: the
	// key of a host absent from known_hosts is trusted and appended to the
	// file. A changed or revoked key is refused regardless.
	AcceptNewHostKeys bool
	// SudoPassword returns the sudo password. It is called at most once per
	// dialer, and only when `sudo -n` reports that a password is required.
	// The password is fed to `sudo -S` over stdin, never in argv or env.
	SudoPassword func() ([]byte, error)
	// Passphrase returns the passphrase of an encrypted identity file; it is
	// asked at most once per key file.
	Passphrase func(keyFile string) ([]byte, error)
	// Warnings receives non-fatal notices (a new host key trusted, ssh-agent
	// unusable). Nil discards them.
	Warnings io.Writer
}

// Defaults applied to zero fields of SSHOptions.
const (
	DefaultConnectTimeout     = 10 * time.Second
	DefaultKeepAliveInterval  = 5 * time.Second
	DefaultKeepAliveMaxMissed = 3
	DefaultCommandTimeout     = 2 * time.Minute
	DefaultMaxSessions        = 8
)

// withDefaults returns o with every unset field replaced by its default.
func (o SSHOptions) withDefaults() SSHOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.KeepAliveInterval <= 0 {
		o.KeepAliveInterval = DefaultKeepAliveInterval
	}
	if o.KeepAliveMaxMissed <= 0 {
		o.KeepAliveMaxMissed = DefaultKeepAliveMaxMissed
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.Warnings == nil {
		o.Warnings = io.Discard
	}
	return o
}
