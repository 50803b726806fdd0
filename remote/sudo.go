package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
)

// How sudo is driven. `sudo -n` never prompts: it fails with "a password is
// required" when the policy wants one. Only then is the password fetched and
// every privileged command run as `sudo -S -k -p PROMPT -- ARGS` with an
// empty PROMPT: -S makes sudo read the password from its standard input (the
// first line we send, followed by the command's own stdin), the empty prompt
// keeps stderr clean, and -k ignores cached credentials so sudo always
// consumes that first line and the password never leaks into the command's
// input. The password is never in argv or the environment.
var (
	sudoNoPassword = []string{"sudo", "-n", "--"}
	sudoStdinPass  = []string{"sudo", "-S", "-k", "-p", "", "--"}
)

// sudoMode is what a node's sudo needs, learnt once per node.
type sudoMode int

const (
	sudoUnknown sudoMode = iota
	sudoPasswordless
	sudoWithPassword
)

// sudoState caches the probe result (or the SudoError) of one node.
type sudoState struct {
	mu   sync.Mutex
	mode sudoMode
	err  error
}

// passwordCache asks the dialer's password source at most once.
type passwordCache struct {
	source func() ([]byte, error)
	mu     sync.Mutex
	done   bool
	pw     []byte
	err    error
}

// get returns the password, asking the source on first use.
func (p *passwordCache) get() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		p.done = true
		if p.source == nil {
			p.err = errNoSudoPassword
		} else {
			p.pw, p.err = p.source()
		}
	}
	return p.pw, p.err
}

var errNoSudoPassword = sudoReason("no sudo password source is configured")

// sudoReason is a plain error text type for SudoError causes.
type sudoReason string

func (r sudoReason) Error() string { return string(r) }

// useSudo reports whether a command asking for root must go through sudo.
func (n *sshNode) useSudo(want bool) bool {
	return want && n.t.Sudo && n.t.User != "root"
}

// runSudo runs cmd through sudo in the mode the node needs.
func (n *sshNode) runSudo(ctx context.Context, cmd Command) (Result, error) {
	mode, err := n.sudoMode(ctx)
	if err != nil {
		return Result{}, err
	}
	if mode == sudoPasswordless {
		return n.exec(ctx, cmd.Args[0], concat(sudoNoPassword, cmd.Args), cmd.Stdin)
	}
	pw, err := n.d.sudoPW.get()
	if err != nil {
		return Result{}, &SudoError{Node: n.t.Name, Reason: "reading the sudo password", Err: err}
	}
	res, err := n.exec(ctx, cmd.Args[0], concat(sudoStdinPass, cmd.Args), withPassword(pw, cmd.Stdin))
	if err == nil && res.ExitCode != 0 && wrongPassword(res.Stderr) {
		return res, &SudoError{Node: n.t.Name, Reason: "the sudo password was refused", Stderr: trimmed(res.Stderr)}
	}
	return res, err
}

// sudoMode probes the node once with `sudo -n -- true` and, when a password
// is required, checks the password once, so a wrong password is reported
// before any real command runs (and sudo's retries never eat its stdin).
// SudoErrors are cached; transport errors are not.
func (n *sshNode) sudoMode(ctx context.Context) (sudoMode, error) {
	s := &n.sudo
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode != sudoUnknown || s.err != nil {
		return s.mode, s.err
	}
	mode, err := n.probeSudo(ctx)
	if se := (*SudoError)(nil); err == nil || errors.As(err, &se) {
		s.mode, s.err = mode, err
	}
	return mode, err
}

func (n *sshNode) probeSudo(ctx context.Context) (sudoMode, error) {
	res, err := n.exec(ctx, "sudo", concat(sudoNoPassword, []string{"true"}), nil)
	switch {
	case err != nil:
		return sudoUnknown, err
	case res.ExitCode == 0:
		return sudoPasswordless, nil
	case !bytes.Contains(res.Stderr, []byte("password is required")):
		return sudoUnknown, &SudoError{Node: n.t.Name, Reason: "sudo -n failed", Stderr: trimmed(res.Stderr)}
	}
	pw, err := n.d.sudoPW.get()
	if err != nil {
		return sudoUnknown, &SudoError{Node: n.t.Name, Reason: "a password is required", Err: err}
	}
	res, err = n.exec(ctx, "sudo", concat(sudoStdinPass, []string{"true"}), withPassword(pw, nil))
	switch {
	case err != nil:
		return sudoUnknown, err
	case res.ExitCode == 0:
		return sudoWithPassword, nil
	case wrongPassword(res.Stderr):
		return sudoUnknown, &SudoError{Node: n.t.Name, Reason: "the sudo password was refused", Stderr: trimmed(res.Stderr)}
	default:
		return sudoUnknown, &SudoError{Node: n.t.Name, Reason: "sudo -S failed", Stderr: trimmed(res.Stderr)}
	}
}

// withPassword prefixes stdin with the password line.
func withPassword(pw []byte, stdin io.Reader) io.Reader {
	line := make([]byte, 0, len(pw)+1)
	line = append(append(line, pw...), '\n')
	if stdin == nil {
		return bytes.NewReader(line)
	}
	return io.MultiReader(bytes.NewReader(line), stdin)
}

// wrongPassword recognises sudo's refusal of a password.
func wrongPassword(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("incorrect password")) ||
		bytes.Contains(stderr, []byte("Sorry, try again"))
}

// concat returns a+b in a new slice.
func concat(a, b []string) []string {
	return append(append(make([]string, 0, len(a)+len(b)), a...), b...)
}

// trimmed returns a bounded, trimmed copy of a tool's stderr for messages.
func trimmed(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}
