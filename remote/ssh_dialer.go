package remote

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// errClosed marks operations on a node after Close.
var errClosed = fmt.Errorf("connection closed: %w", net.ErrClosed)

// SSHDialer is the Dialer that reaches nodes over SSH. It caches what must be
// asked only once per run (key passphrases, the sudo password) and shares
// bastion connections between the nodes behind them. Safe for concurrent use.
type SSHDialer struct {
	opts    SSHOptions
	keys    *keyring
	sudoPW  *passwordCache
	hops    *hopCache
	configs *configCache

	warnMu sync.Mutex
	warned map[string]bool
}

// NewSSHDialer returns a dialer using opts (zero fields take the defaults).
func NewSSHDialer(opts SSHOptions) *SSHDialer {
	opts = opts.withDefaults()
	return &SSHDialer{
		opts:   opts,
		keys:   newKeyring(opts.Passphrase),
		sudoPW: &passwordCache{source: opts.SudoPassword},
		hops:   &hopCache{hops: map[string]*sharedHop{}},

		configs: &configCache{},
		warned:  map[string]bool{},
	}
}

var _ Dialer = (*SSHDialer)(nil)

// Dial connects to t (through its ProxyJump chain, if any), verifying every
// hop's host key against that hop's own known_hosts, and returns the node.
func (d *SSHDialer) Dial(ctx context.Context, t Target) (Node, error) {
	if t.Name == "" || t.Address == "" {
		return nil, fmt.Errorf("remote: target %q needs a name and an address", t.Name)
	}
	conn, h, err := d.connectHop(ctx, t)
	if err != nil {
		return nil, err
	}
	return newSSHNode(d, h, conn), nil
}

// connect opens an authenticated, kept-alive connection to t.
func (d *SSHDialer) connect(ctx context.Context, t Target) (*clientConn, error) {
	conn, _, err := d.connectHop(ctx, t)
	return conn, err
}

// connectHop resolves t through ssh_config, then connects.
func (d *SSHDialer) connectHop(ctx context.Context, t Target) (*clientConn, *hop, error) {
	h, err := d.resolve(t)
	if err != nil {
		return nil, nil, &DialError{Node: t.Name, Addr: knownHostsAddr(t), Err: err}
	}
	d.debugf("ssh %s: %s@%s (alias %s, ssh_config %s, known_hosts %s, connect timeout %s)", t.Name, h.User,
		knownHostsAddr(h.Target), h.alias, orString(strings.Join(h.configFiles, ","), "none"), strings.Join(h.userKnownHosts, ","), h.connectTimeout)
	addr := knownHostsAddr(h.Target)
	raw, via, release, err := d.transport(ctx, h, addr)
	if err != nil {
		return nil, nil, err
	}
	client, err := d.handshake(ctx, h, addr, raw)
	if err != nil {
		release()
		return nil, nil, &DialError{Node: t.Name, Addr: addr, Via: via, Err: err, Timeout: h.connectTimeout}
	}
	d.debugf("ssh %s: authenticated as %s", t.Name, h.User)
	return newClientConn(client, release, d.opts.KeepAliveInterval, d.opts.KeepAliveMaxMissed), h, nil
}

// transport opens the byte stream to addr: a TCP connection, or a
// direct-tcpip channel through the (shared) bastion connection.
func (d *SSHDialer) transport(ctx context.Context, h *hop, addr string) (net.Conn, string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, h.connectTimeout)
	defer cancel()
	if h.jump == nil {
		nd := net.Dialer{Timeout: h.connectTimeout}
		raw, err := nd.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, "", nil, &DialError{Node: h.Name, Addr: addr, Err: err, Timeout: h.connectTimeout}
		}
		return raw, "", func() {}, nil
	}
	jump := *h.jump
	jump.depth = h.depth + 1
	via := knownHostsAddr(jump)
	d.debugf("ssh %s: through bastion %s", h.Name, via)
	conn, release, err := d.hops.acquire(ctx, jump, d.connect)
	if err != nil {
		return nil, via, nil, &DialError{Node: h.Name, Addr: addr, Via: via, Err: err, Timeout: h.connectTimeout}
	}
	raw, err := conn.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		release()
		return nil, via, nil, &DialError{Node: h.Name, Addr: addr, Via: via, Err: fmt.Errorf("from the bastion: %w", err), Timeout: h.connectTimeout}
	}
	return raw, via, release, nil
}

// handshake runs the SSH handshake on raw within the hop's connect timeout
// (and ctx), closing raw if either expires: a peer that accepts TCP but
// never speaks SSH cannot hang the tool.
func (d *SSHDialer) handshake(ctx context.Context, h *hop, addr string, raw net.Conn) (*ssh.Client, error) {
	check, err := newHostKeyCheck(h, addr, d.opts.AcceptNewHostKeys)
	if err != nil {
		raw.Close()
		return nil, err
	}
	check.onAccept = func(line string) {
		d.warnf("warning: node %s: trusted the new host key of %s and added it to %s: %s", h.Name, addr, check.file, line)
	}
	auth, authDone, err := d.authFor(h)
	if err != nil {
		raw.Close()
		return nil, err
	}
	defer authDone()
	cfg := &ssh.ClientConfig{
		User:              h.User,
		Auth:              auth,
		HostKeyCallback:   check.callback,
		HostKeyAlgorithms: check.algorithms(),
		Timeout:           h.connectTimeout,
	}
	ctx, cancel := context.WithTimeout(ctx, h.connectTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	conn, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if !stop() {
		if err == nil {
			conn.Close()
		}
		return nil, fmt.Errorf("ssh handshake: %w", errTimedOut(ctx.Err()))
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

// warnOnce writes a warning the first time key is seen.
func (d *SSHDialer) warnOnce(key, format string, args ...any) {
	d.warnMu.Lock()
	seen := d.warned[key]
	d.warned[key] = true
	d.warnMu.Unlock()
	if !seen {
		d.warnf(format, args...)
	}
}

// debugf writes one line of the -v trace.
func (d *SSHDialer) debugf(format string, args ...any) {
	fmt.Fprintf(d.opts.Debug, "debug: "+format+"\n", args...)
}

// withCommandTimeout applies the default per-operation timeout to a context
// without a deadline.
func (d *SSHDialer) withCommandTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d.opts.CommandTimeout)
}
