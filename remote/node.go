package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sshNode is a Node over one SSH connection. Sessions are opened per
// operation on the shared connection, at most MaxSessions at a time.
type sshNode struct {
	d     *SSHDialer
	t     Target // as resolved: real address, port and user
	h     *hop
	conn  *clientConn
	slots chan struct{} // session semaphore
	sudo  sudoState
}

func newSSHNode(d *SSHDialer, h *hop, conn *clientConn) *sshNode {
	return &sshNode{d: d, t: h.Target, h: h, conn: conn, slots: make(chan struct{}, d.opts.MaxSessions)}
}

var _ Node = (*sshNode)(nil)

// Name returns the inventory name of the node.
func (n *sshNode) Name() string { return n.t.Name }

// LoginUser is the user the connection logged in as, after ssh_config.
func (n *sshNode) LoginUser() string { return n.t.User }

// Close ends the connection (and releases the bastion it used); idempotent.
func (n *sshNode) Close() error { return n.conn.close() }

// Run runs cmd, through sudo when cmd.Sudo asks for it and the login user is
// not root. A non-zero exit status is reported in Result, not as an error.
func (n *sshNode) Run(ctx context.Context, cmd Command) (Result, error) {
	if err := checkArgs(cmd.Args); err != nil {
		return Result{}, fmt.Errorf("node %s: %w", n.t.Name, err)
	}
	if !n.useSudo(cmd.Sudo) {
		return n.exec(ctx, cmd.Args[0], cmd.Args, cmd.Stdin)
	}
	return n.runSudo(ctx, cmd)
}

// checkArgs rejects what a shell word cannot carry.
func checkArgs(args []string) error {
	if len(args) == 0 {
		return errors.New("empty command")
	}
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %q contains a NUL byte", a)
		}
	}
	return nil
}

// exec runs args (quoted into one command line) in a new session; label
// names the program in errors without echoing its arguments. The session is killed and
// closed when ctx ends; a connection lost meanwhile fails the call with an
// error matching ErrConnectionLost.
func (n *sshNode) exec(ctx context.Context, label string, args []string, stdin io.Reader) (Result, error) {
	ctx, cancel := n.d.withCommandTimeout(ctx)
	defer cancel()
	s, err := n.newSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer n.endSession(s)
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &stdout, &stderr, stdin
	n.traceCommand(args, stdin != nil)
	stop := context.AfterFunc(ctx, func() {
		_ = s.Signal(ssh.SIGKILL)
		_ = s.Close()
	})
	err = s.Run(ShellQuote(args...))
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if !stop() && err != nil {
		// killed by ctx (a command that finished just before ctx ended
		// keeps its result)
		return res, n.opError(fmt.Errorf("%s: %w", label, ctx.Err()))
	}
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exit):
		res.ExitCode = exitCode(exit)
		return res, nil
	default:
		return res, n.opError(fmt.Errorf("%s: %w", label, err))
	}
}

// newSession takes a session slot and opens a session, giving up when ctx
// ends (opening a channel on a hung connection would otherwise block until
// the keep-alive notices).
func (n *sshNode) newSession(ctx context.Context) (*ssh.Session, error) {
	if err := n.conn.err(); err != nil {
		return nil, n.opError(err)
	}
	select {
	case n.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, n.opError(fmt.Errorf("waiting for a session: %w", ctx.Err()))
	}
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := n.conn.client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			<-n.slots
			return nil, n.opError(fmt.Errorf("opening a session: %w", o.err))
		}
		return o.s, nil
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.s != nil {
				o.s.Close()
			}
			<-n.slots
		}()
		return nil, n.opError(fmt.Errorf("opening a session: %w", ctx.Err()))
	}
}

// endSession closes s and frees its slot.
func (n *sshNode) endSession(s *ssh.Session) {
	_ = s.Close()
	<-n.slots
}

// opError names the node, and reports a dead connection as the cause when
// that is why the operation failed.
func (n *sshNode) opError(err error) error {
	if cerr := n.conn.err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("node %s: %w (%w)", n.t.Name, cerr, err)
	}
	return fmt.Errorf("node %s: %w", n.t.Name, err)
}

// traceCommand writes the -v line of one remote command: its argv, never
// its stdin (where secrets travel).
func (n *sshNode) traceCommand(args []string, hasStdin bool) {
	in := ""
	if hasStdin {
		in = " (stdin not shown)"
	}
	n.d.debugf("ssh %s: run: %s%s", n.t.Name, ShellQuote(args...), in)
}

// exitCode maps an exit status, or a killing signal to 128+n like a shell.
func exitCode(e *ssh.ExitError) int {
	if e.Signal() == "" {
		return e.ExitStatus()
	}
	if sig, ok := signalNumbers[ssh.Signal(e.Signal())]; ok {
		return 128 + sig
	}
	return -1
}

var signalNumbers = map[ssh.Signal]int{
	ssh.SIGHUP: 1, ssh.SIGINT: 2, ssh.SIGQUIT: 3, ssh.SIGILL: 4, ssh.SIGABRT: 6,
	ssh.SIGFPE: 8, ssh.SIGKILL: 9, ssh.SIGSEGV: 11, ssh.SIGPIPE: 13, ssh.SIGALRM: 14,
	ssh.SIGTERM: 15, ssh.SIGUSR1: 10, ssh.SIGUSR2: 12,
}
