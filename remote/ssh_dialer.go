package remote

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
)

// errClosed marks operations on a node after Close.
var errClosed = fmt.Errorf("connection closed: %w", net.ErrClosed)

// SSHDialer is the Dialer that reaches nodes over SSH. It caches what must be
// asked only once per run (key passphrases, the sudo password) and shares
// bastion connections between the nodes behind them. Safe for concurrent use.
type SSHDialer struct {
	opts   SSHOptions
	keys   *keyring
	sudoPW *passwordCache
	hops   *hopCache
}

// NewSSHDialer returns a dialer using opts (zero fields take the defaults).
func NewSSHDialer(opts SSHOptions) *SSHDialer {
	opts = opts.withDefaults()
	return &SSHDialer{
		opts:   opts,
		keys:   newKeyring(opts.Passphrase),
		sudoPW: &passwordCache{source: opts.SudoPassword},
		hops:   &hopCache{hops: map[string]*sharedHop{}},
	}
}

var _ Dialer = (*SSHDialer)(nil)

// Dial connects to t (through its ProxyJump chain, if any), verifying every
// hop's host key against that hop's own known_hosts, and returns the node.
func (d *SSHDialer) Dial(ctx context.Context, t Target) (Node, error) {
	if t.Name == "" || t.Address == "" || t.User == "" {
		return nil, fmt.Errorf("remote: target %q needs a name, an address and a user", t.Name)
	}
	conn, err := d.connect(ctx, t)
	if err != nil {
		return nil, err
	}
	return newSSHNode(d, t, conn), nil
}

// connect opens an authenticated, kept-alive connection to t.
func (d *SSHDialer) connect(ctx context.Context, t Target) (*clientConn, error) {
	addr := knownHostsAddr(t)
	raw, via, release, err := d.transport(ctx, t, addr)
	if err != nil {
		return nil, err
	}
	client, err := d.handshake(ctx, t, addr, raw)
	if err != nil {
		release()
		var hke *HostKeyError
		if errors.As(err, &hke) && via == "" {
			return nil, hke
		}
		return nil, &DialError{Node: t.Name, Addr: addr, Via: via, Err: err}
	}
	return newClientConn(client, release, d.opts.KeepAliveInterval, d.opts.KeepAliveMaxMissed), nil
}

// transport opens the byte stream to addr: a TCP connection, or a
// direct-tcpip channel through the (shared) bastion connection.
func (d *SSHDialer) transport(ctx context.Context, t Target, addr string) (net.Conn, string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.ConnectTimeout)
	defer cancel()
	if t.ProxyJump == nil {
		nd := net.Dialer{Timeout: d.opts.ConnectTimeout}
		raw, err := nd.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, "", nil, &DialError{Node: t.Name, Addr: addr, Err: err}
		}
		return raw, "", func() {}, nil
	}
	via := knownHostsAddr(*t.ProxyJump)
	hop, release, err := d.hops.acquire(ctx, *t.ProxyJump, d.connect)
	if err != nil {
		return nil, via, nil, &DialError{Node: t.Name, Addr: addr, Via: via, Err: err}
	}
	raw, err := hop.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		release()
		return nil, via, nil, &DialError{Node: t.Name, Addr: addr, Via: via, Err: err}
	}
	return raw, via, release, nil
}

// handshake runs the SSH handshake on raw within ConnectTimeout (and ctx),
// closing raw if either expires: a peer that accepts TCP but never speaks
// SSH cannot hang the tool.
func (d *SSHDialer) handshake(ctx context.Context, t Target, addr string, raw net.Conn) (*ssh.Client, error) {
	check, err := newHostKeyCheck(t, addr, d.opts.AcceptNewHostKeys)
	if err != nil {
		raw.Close()
		return nil, err
	}
	check.onAccept = func(line string) {
		d.warnf("warning: node %s: trusted the new host key of %s and added it to %s: %s", t.Name, addr, t.KnownHosts, line)
	}
	auth, authDone, err := d.authFor(t)
	if err != nil {
		raw.Close()
		return nil, err
	}
	defer authDone()
	cfg := &ssh.ClientConfig{
		User:              t.User,
		Auth:              auth,
		HostKeyCallback:   check.callback,
		HostKeyAlgorithms: check.algorithms(),
		Timeout:           d.opts.ConnectTimeout,
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.ConnectTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	conn, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if !stop() {
		if err == nil {
			conn.Close()
		}
		return nil, fmt.Errorf("ssh handshake: %w (timeout %s)", ctx.Err(), d.opts.ConnectTimeout)
	}
	if err != nil {
		raw.Close()
		return nil, handshakeError(check, err)
	}
	return ssh.NewClient(conn, chans, reqs), nil
}

// handshakeError prefers the precise host key error over the generic one.
func handshakeError(check *hostKeyCheck, err error) error {
	if check.failure != nil {
		return check.failure
	}
	if hke := check.noCommonAlgorithm(err); hke != nil {
		return hke
	}
	return err
}

// warnf writes one warning line.
func (d *SSHDialer) warnf(format string, args ...any) {
	fmt.Fprintf(d.opts.Warnings, format+"\n", args...)
}

// withCommandTimeout applies the default per-operation timeout to a context
// without a deadline.
func (d *SSHDialer) withCommandTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d.opts.CommandTimeout)
}
