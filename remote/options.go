package remote

import (
	"io"
	"time"
)

// SSHOptions tunes how an SSHDialer connects and how long it waits. The zero
// value is usable: every unset duration or count takes the default below, so
// callers only set what the operator asked to change.
type SSHOptions struct {
	// ConnectTimeout bounds the TCP connect plus the SSH handshake of each
	// hop when the operator set it (--connect-timeout); zero means
	// ssh_config's ConnectTimeout, else FallbackConnectTimeout.
	ConnectTimeout time.Duration
	// FallbackConnectTimeout applies when neither ConnectTimeout nor
	// ssh_config sets one (default 10s; kmsctl passes --timeout).
	FallbackConnectTimeout time.Duration
	// SSHConfig is the OpenSSH client config file ("" = ~/.ssh/config then
	// SystemSSHConfig, as ssh does; "none" = none; a path = only that file,
	// as ssh -F).
	SSHConfig string
	// SystemSSHConfig is read after ~/.ssh/config (default
	// /etc/ssh/ssh_config; "none" skips it).
	SystemSSHConfig string
	// GlobalKnownHosts are read after the user's known_hosts files (nil
	// means DefaultGlobalKnownHosts; empty means none).
	GlobalKnownHosts []string
	// Debug receives the -v trace: how each node was resolved, the keys
	// offered, and every remote command (never its stdin). Nil discards it.
	Debug io.Writer
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
	if o.FallbackConnectTimeout <= 0 {
		o.FallbackConnectTimeout = DefaultConnectTimeout
	}
	if o.SystemSSHConfig == "" {
		o.SystemSSHConfig = DefaultSystemSSHConfig
	}
	if o.Debug == nil {
		o.Debug = io.Discard
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
