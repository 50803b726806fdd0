package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyCheck verifies one hop's host key against that hop's own
// known_hosts file. It records the *HostKeyError it produced so the dialer can
// return it unwrapped from the handshake failure.
type hostKeyCheck struct {
	node      string
	addr      string                // host:port as dialled
	file      string                // the user's first known_hosts: named in messages, receives accepted keys
	db        *knownhosts.HostKeyDB // nil when no known_hosts file exists yet
	acceptNew bool
	hash      bool              // HashKnownHosts: record accepted keys hashed
	onAccept  func(line string) // warning hook
	failure   *HostKeyError
}

// newHostKeyCheck loads every known_hosts file of h that exists (the
// user's, then the global ones). No file at all is an empty database (every
// host unknown), so the refusal message names the file to add the key to.
func newHostKeyCheck(h *hop, addr string, acceptNew bool) (*hostKeyCheck, error) {
	if len(h.userKnownHosts) == 0 {
		return nil, fmt.Errorf("no known_hosts file configured")
	}
	c := &hostKeyCheck{node: h.Name, addr: addr, file: h.userKnownHosts[0], acceptNew: acceptNew, hash: h.hashKnownHosts}
	var files []string
	for _, f := range append(append([]string{}, h.userKnownHosts...), h.globalKnownHosts...) {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading known_hosts: %w", err)
		}
	}
	if len(files) == 0 {
		return c, nil
	}
	db, err := knownhosts.NewDB(files...)
	if err != nil {
		return nil, fmt.Errorf("reading known_hosts: %w", err)
	}
	c.db = db
	return c, nil
}

// algorithms returns the host key algorithms to offer: exactly what
// known_hosts holds for this host (certificate algorithms for
// @cert-authority lines), so a host with several keys is verified with the
// one we know. For an unknown host, the common plain-key algorithms (no
// certificates: a certificate cannot be trusted on first use).
func (h *hostKeyCheck) algorithms() []string {
	if h.db != nil {
		if algos := h.db.HostKeyAlgorithms(h.addr); len(algos) > 0 {
			return algos
		}
	}
	return trustOnFirstUseAlgos
}

// trustOnFirstUseAlgos are the plain-key algorithms offered to an unknown
// host, strongest and most common first (as OpenSSH prefers).
var trustOnFirstUseAlgos = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// callback is the ssh.HostKeyCallback.
func (h *hostKeyCheck) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.verify(hostname, remote, key)
	if err == nil {
		return nil
	}
	var hke *HostKeyError
	if errors.As(err, &hke) {
		h.failure = hke
	}
	return err
}

func (h *hostKeyCheck) verify(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if h.db == nil {
		return h.unknown(key)
	}
	err := h.db.HostKeyCallback()(hostname, remote, key)
	if err == nil {
		return nil
	}
	if cert, ok := key.(*ssh.Certificate); ok {
		// A certificate whose own key is revoked reports a plain error; ask
		// again with the bare key to learn the @revoked line.
		var rev *xknownhosts.RevokedError
		if errors.As(h.db.HostKeyCallback()(hostname, remote, cert.Key), &rev) {
			return h.fail(HostKeyRevoked, key, rev.Revoked.Filename, rev.Revoked.Line, err)
		}
		return h.fail(HostKeyBadCertificate, key, h.file, 0, err)
	}
	var rev *xknownhosts.RevokedError
	if errors.As(err, &rev) {
		return h.fail(HostKeyRevoked, key, rev.Revoked.Filename, rev.Revoked.Line, err)
	}
	var ke *xknownhosts.KeyError
	if !errors.As(err, &ke) {
		return h.fail(HostKeyBadCertificate, key, h.file, 0, err)
	}
	if len(ke.Want) > 0 {
		return h.fail(HostKeyChanged, key, ke.Want[0].Filename, ke.Want[0].Line, err)
	}
	return h.unknown(key)
}

// unknown refuses an unknown host, or trusts and records it when the
// operator explicitly allowed it.
func (h *hostKeyCheck) unknown(key ssh.PublicKey) error {
	if !h.acceptNew {
		return h.fail(HostKeyUnknown, key, h.file, 0, &xknownhosts.KeyError{})
	}
	line, err := appendKnownHost(h.file, h.addr, key, h.hash)
	if err != nil {
		return fmt.Errorf("trusting the new host key of %s: %w", h.addr, err)
	}
	if h.onAccept != nil && line != "" {
		h.onAccept(line)
	}
	return nil
}

func (h *hostKeyCheck) fail(kind HostKeyErrorKind, key ssh.PublicKey, file string, line int, err error) error {
	if file == "" {
		file = h.file
	}
	return &HostKeyError{
		Node: h.node, Host: h.addr, File: file, Line: line, Kind: kind,
		Fingerprint: fingerprint(key), Err: err,
	}
}

// noCommonAlgorithm turns a failed negotiation into a host key error: when
// known_hosts pins key types the host no longer offers, the host's identity
// has changed as far as we can tell.
func (h *hostKeyCheck) noCommonAlgorithm(err error) error {
	if h.db == nil || len(h.db.HostKeyAlgorithms(h.addr)) == 0 ||
		!strings.Contains(err.Error(), "no common algorithm for host key") {
		return nil
	}
	return &HostKeyError{
		Node: h.node, Host: h.addr, File: h.file, Kind: HostKeyChanged,
		Fingerprint: "none of " + strings.Join(h.db.HostKeyAlgorithms(h.addr), ","), Err: err,
	}
}

// fingerprint formats a key as OpenSSH prints it.
func fingerprint(key ssh.PublicKey) string {
	return key.Type() + " " + ssh.FingerprintSHA256(key)
}

// knownHostsAddr is the host:port form used for both the handshake and the
// known_hosts lookup (knownhosts normalises port 22 to the bare host and any
// other port to [host]:port).
func knownHostsAddr(t Target) string {
	port := t.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Address, fmt.Sprint(port))
}
