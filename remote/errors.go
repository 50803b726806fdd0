package remote

import (
	"errors"
	"fmt"
	"strings"
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
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "node %s: host key of %s ", e.Node, e.Host)
	switch e.Kind {
	case HostKeyUnknown:
		fmt.Fprintf(&b, "is unknown: no entry in %s (server offered %s); refusing to connect: "+
			"verify the fingerprint and add it to the file, or explicitly allow trusting new host keys", where, e.Fingerprint)
	case HostKeyChanged:
		fmt.Fprintf(&b, "HAS CHANGED: %s holds a different key (server offered %s); refusing to connect: "+
			"this may be a man-in-the-middle attack; if the change is expected, remove the old entry from %s", where, e.Fingerprint, e.File)
	case HostKeyRevoked:
		fmt.Fprintf(&b, "is REVOKED by %s (server offered %s); refusing to connect", where, e.Fingerprint)
	default:
		fmt.Fprintf(&b, "is not trusted: %s (server offered %s, known_hosts %s); refusing to connect", e.errText(), e.Fingerprint, where)
	}
	return b.String()
}

func (e *HostKeyError) errText() string {
	if e.Err == nil {
		return e.Kind.String()
	}
	return e.Err.Error()
}

// Unwrap exposes the verification error.
func (e *HostKeyError) Unwrap() error { return e.Err }

// DialError is returned when a node cannot be reached or authenticated.
type DialError struct {
	Node string // inventory name of the node
	Addr string // host:port dialled
	Via  string // bastion host:port, empty for a direct connection
	Err  error
}

// Error names the node, the address and the hop.
func (e *DialError) Error() string {
	via := ""
	if e.Via != "" {
		via = " via " + e.Via
	}
	return fmt.Sprintf("node %s: cannot connect to %s%s: %v", e.Node, e.Addr, via, e.Err)
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

// Error names the node and quotes sudo.
func (e *SudoError) Error() string {
	msg := fmt.Sprintf("node %s: sudo: %s", e.Node, e.Reason)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes the underlying error, if any.
func (e *SudoError) Unwrap() error { return e.Err }
