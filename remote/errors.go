package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// ErrConnectionLost is matched (errors.Is) by every error of an operation
// that failed because the node's SSH connection died or stopped answering
// keep-alives, so callers can tell "node unreachable" from "command failed".
var ErrConnectionLost = errors.New("ssh connection lost")

// HostKeyErrorKind says why a host key was refused.
type HostKeyErrorKind int

const (
	// HostKeyUnknown: known_hosts holds no entry for the host.
	HostKeyUnknown HostKeyErrorKind = iota + 1
	// HostKeyChanged: known_hosts holds a different key for the host (or only
	// key types the host no longer offers). Always refused.
	HostKeyChanged
	// HostKeyRevoked: the key is listed in an @revoked line. Always refused.
	HostKeyRevoked
	// HostKeyBadCertificate: the host presented a certificate that no
	// @cert-authority line for it vouches for, or that is invalid (expired,
	// wrong principal).
	HostKeyBadCertificate
)

// String names the kind in messages.
func (k HostKeyErrorKind) String() string {
	switch k {
	case HostKeyUnknown:
		return "unknown"
	case HostKeyChanged:
		return "changed"
	case HostKeyRevoked:
		return "revoked"
	case HostKeyBadCertificate:
		return "bad certificate"
	}
	return fmt.Sprintf("HostKeyErrorKind(%d)", int(k))
}

// HostKeyError is returned when a node's host key is refused. It names the
// node, the host:port and the known_hosts file (and line, when one is
// involved) so the operator can check the key without guessing.
type HostKeyError struct {
	Node        string // inventory name of the node
	Host        string // host:port dialled
	File        string // known_hosts file consulted
	Line        int    // line of the conflicting/revoking entry; 0 when none
	Kind        HostKeyErrorKind
	Fingerprint string // the offered key: "type SHA256:..."
	Err         error  // the underlying verification error
}

// Error explains the refusal and what the operator can do about it.
func (e *HostKeyError) Error() string {
	return fmt.Sprintf("node %s: %s", e.Node, e.describe())
}

// describe is the message without the node name, for wrappers that name it.
func (e *HostKeyError) describe() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	host, port, _ := net.SplitHostPort(e.Host)
	var b strings.Builder
	fmt.Fprintf(&b, "host key of %s ", e.Host)
	switch e.Kind {
	case HostKeyUnknown:
		fmt.Fprintf(&b, "is unknown: no entry in %s (server offered %s); refusing to connect. "+
			"Fix: compare the fingerprint with the node's (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it "+
			"(ssh-keyscan -p %s %s >> %s), or pass --accept-new-host-keys to trust and record it", where, e.Fingerprint, port, host, e.File)
	case HostKeyChanged:
		fmt.Fprintf(&b, "HAS CHANGED: %s holds a different key (server offered %s); refusing to connect: "+
			"this may be a man-in-the-middle attack. Fix, only if the change is expected: ssh-keygen -R '%s' -f %s, then add the new key", where, e.Fingerprint, knownHostsName(host, port), e.File)
	case HostKeyRevoked:
		fmt.Fprintf(&b, "is REVOKED by %s (server offered %s); refusing to connect", where, e.Fingerprint)
	default:
		fmt.Fprintf(&b, "is not trusted: %s (server offered %s, known_hosts %s); refusing to connect", e.errText(), e.Fingerprint, where)
	}
	return b.String()
}

// knownHostsName is how known_hosts names host:port.
func knownHostsName(host, port string) string {
	if port == "22" || port == "" {
		return host
	}
	return "[" + host + "]:" + port
}

func (e *HostKeyError) errText() string {
	if e.Err == nil {
		return e.Kind.String()
	}
	return e.Err.Error()
}

// Unwrap exposes the verification error.
func (e *HostKeyError) Unwrap() error { return e.Err }

// DialErrorKind classifies why a node could not be reached, so messages
// and status tables say what to fix instead of a generic "unreachable".
type DialErrorKind string

// The kinds of DialError.
const (
	DialHostKeyUnknown DialErrorKind = "host key unknown"
	DialHostKeyChanged DialErrorKind = "host key changed"
	DialHostKey        DialErrorKind = "host key refused"
	DialAuthRefused    DialErrorKind = "authentication refused"
	DialNoIdentity     DialErrorKind = "no SSH key"
	DialRefused        DialErrorKind = "connection refused"
	DialTimedOut       DialErrorKind = "timed out"
	DialNoHost         DialErrorKind = "host not found"
	DialUnreachable    DialErrorKind = "network unreachable"
	DialConfig         DialErrorKind = "ssh configuration"
	DialOther          DialErrorKind = "cannot connect"
)

// ErrTimedOut is matched by a connect or handshake that ran out of time.
var ErrTimedOut = errors.New("timed out")

func errTimedOut(err error) error { return fmt.Errorf("%w: %w", ErrTimedOut, err) }

// errNoIdentity: nothing to offer for public key authentication.
var errNoIdentity = errors.New("no SSH key to offer")

// DialError is returned when a node cannot be reached or authenticated.
type DialError struct {
	Node    string // inventory name of the node
	Addr    string // host:port dialled
	Via     string // bastion host, empty for a direct connection
	Err     error
	Timeout time.Duration // the connect timeout in force
}

// Error names the node once, what went wrong, and the fix in one line.
func (e *DialError) Error() string {
	var hke *HostKeyError
	var inner *DialError
	switch {
	case errors.As(e.Err, &hke) && hke.Node == e.Node:
		return hke.Error()
	case errors.As(e.Err, &hke):
		return fmt.Sprintf("node %s: bastion %s: %s", e.Node, e.Via, hke.describe())
	case errors.As(e.Err, &inner):
		return fmt.Sprintf("node %s: bastion %s: %s", e.Node, e.Via, inner.describe())
	}
	return fmt.Sprintf("node %s: %s", e.Node, e.describe())
}

// describe is the message without the node name.
func (e *DialError) describe() string {
	via := ""
	if e.Via != "" {
		via = " via " + e.Via
	}
	kind := e.Kind()
	if kind == DialConfig {
		return e.Err.Error()
	}
	if fix := e.fix(kind); fix != "" {
		return fmt.Sprintf("cannot connect to %s%s: %s (%v). Fix: %s", e.Addr, via, kind, rootCause(e.Err), fix)
	}
	return fmt.Sprintf("cannot connect to %s%s: %v", e.Addr, via, e.Err)
}

// Kind classifies the failure.
func (e *DialError) Kind() DialErrorKind {
	var hke *HostKeyError
	var inner *DialError
	var dns *net.DNSError
	msg := e.Err.Error()
	switch {
	case errors.As(e.Err, &hke):
		return hke.dialKind()
	case errors.As(e.Err, &inner):
		return inner.Kind()
	case errors.Is(e.Err, errNoIdentity):
		return DialNoIdentity
	case strings.Contains(msg, "unable to authenticate"), strings.Contains(msg, "no supported methods remain"):
		return DialAuthRefused
	case errors.Is(e.Err, syscall.ECONNREFUSED), strings.Contains(msg, "Connection refused"):
		return DialRefused
	case errors.Is(e.Err, ErrTimedOut), errors.Is(e.Err, os.ErrDeadlineExceeded), errors.Is(e.Err, context.DeadlineExceeded):
		return DialTimedOut
	case errors.As(e.Err, &dns):
		return DialNoHost
	case errors.Is(e.Err, syscall.ENETUNREACH), errors.Is(e.Err, syscall.EHOSTUNREACH):
		return DialUnreachable
	case strings.HasPrefix(msg, "ssh config"), strings.HasPrefix(msg, "ProxyJump chain"):
		return DialConfig
	}
	return DialOther
}

// dialKind maps a host key refusal onto the dial classification.
func (e *HostKeyError) dialKind() DialErrorKind {
	switch e.Kind {
	case HostKeyUnknown:
		return DialHostKeyUnknown
	case HostKeyChanged:
		return DialHostKeyChanged
	}
	return DialHostKey
}

func (e *DialError) fix(kind DialErrorKind) string {
	host, port, _ := net.SplitHostPort(e.Addr)
	switch kind {
	case DialAuthRefused:
		return "check the login user, and that your key is in the user's ~/.ssh/authorized_keys on the node (or set ssh.identity_file, IdentityFile in ~/.ssh/config, or load the key with ssh-add)"
	case DialNoIdentity:
		return "load a key into ssh-agent (ssh-add), or set ssh.identity_file in the inventory or IdentityFile in ~/.ssh/config"
	case DialRefused:
		return fmt.Sprintf("check that sshd runs on %s and listens on port %s (ssh.port in the inventory, Port in ~/.ssh/config)", host, port)
	case DialTimedOut:
		if e.Timeout <= 0 {
			return "check the address and firewalls (nothing answered in time), or raise --connect-timeout"
		}
		return fmt.Sprintf("check the address and firewalls (nothing answered within %s), or raise --connect-timeout", e.Timeout)
	case DialNoHost:
		return fmt.Sprintf("check the node's address, or add \"Host %s\" with its HostName to ~/.ssh/config", host)
	case DialUnreachable:
		return "check the route to the node (VPN, bastion: ssh.proxy_jump or ProxyJump)"
	}
	return ""
}

// rootCause is the innermost error's text, without the wrappers' prefixes
// that already appear in the message.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// Unwrap exposes the cause (a *HostKeyError of a bastion, a net error, ...).
func (e *DialError) Unwrap() error { return e.Err }

// SudoError is returned when a privileged command could not get through sudo:
// a password is required but none is available, the password is wrong, or
// the user may not use sudo. It never contains the password.
type SudoError struct {
	Node   string
	Reason string // what went wrong, in words
	Stderr string // sudo's own message, trimmed
	Err    error  // e.g. the error of the password source
}

// Error names the node, quotes sudo and gives the fix in one line.
func (e *SudoError) Error() string {
	msg := fmt.Sprintf("node %s: sudo refused: %s", e.Node, e.Reason)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + ". Fix: " + e.fix()
}

// fix says what resolves the refusal.
func (e *SudoError) fix() string {
	switch {
	case strings.Contains(e.Reason, "password is required"), strings.Contains(e.Reason, "reading the sudo password"):
		return "give the password with ssh.sudo_password_file in the inventory or --sudo-password-file, or allow NOPASSWD sudo for the login user"
	case strings.Contains(e.Reason, "refused"):
		return "check the password in the sudo password file (ssh.sudo_password_file or --sudo-password-file)"
	case strings.Contains(e.Stderr, "not in the sudoers"), strings.Contains(e.Stderr, "not allowed"):
		return "grant the login user sudo on the node, or log in as root (ssh.user: root)"
	}
	return "check sudo for the login user on the node (sudo -n true), or log in as root (ssh.user: root)"
}

// Unwrap exposes the underlying error, if any.
func (e *SudoError) Unwrap() error { return e.Err }
