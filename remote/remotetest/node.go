// Package remotetest provides an in-memory remote.Node and remote.Dialer for
// the unit tests of every package that talks to nodes: files with mode and
// owner, symbolic links and file systems (read-only, full) that writes
// honour, scripted command responses, a write hook, TCP handlers, injected
// failures, and a record of every call, so a test can check what kmsctl did
// on each node without SSH. It is the one fake node: a model of a host (a
// key manager's unit, a cluster) is built on top of it with these hooks.
package remotetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kmsctl/kmsctl/remote"
)

// File is one file of a fake node.
type File struct {
	Data  []byte
	Mode  fs.FileMode
	UID   int
	GID   int
	Owner string // empty: looked up from the node's users
	Group string // empty: looked up from the node's groups
}

// Handler answers one Run. stdin is everything the command was given.
type Handler func(cmd remote.Command, stdin []byte) (remote.Result, error)

// ContextHandler is a Handler that also gets the Run's context, for a
// command that must honour it: one that hangs until the caller gives up (a
// restart of a daemon that ignores SIGTERM, a probe that outlives a gate).
type ContextHandler func(ctx context.Context, cmd remote.Command, stdin []byte) (remote.Result, error)

// Node is an in-memory remote.Node. The zero value is not usable; call NewNode.
// Safe for concurrent use.
type Node struct {
	name string

	mu      sync.Mutex
	files   map[string]File
	users   map[int]string
	groups  map[int]string
	scripts []script
	links   map[string]string
	mounts  map[string]Mount
	onWrite WriteHook
	tcp     map[string]func(net.Conn)
	faults  []*Fault
	calls   []Call
	closed  bool
	// forwardAll: DialTCP without a handler dials the address for real.
	forwardAll bool
	// sudoRefused, when set, is what sudo prints when it refuses.
	sudoRefused string
}

// script is one registered handler: an argv prefix (Handle) compared word
// by word, or a line prefix (HandleLine) compared with the joined argv.
type script struct {
	argv   []string
	line   string
	byLine bool
	h      ContextHandler
}

// matches says whether the script answers args (joined: args joined by spaces).
func (s *script) matches(args []string, joined string) bool {
	if s.byLine {
		return strings.HasPrefix(joined, s.line)
	}
	return len(s.argv) <= len(args) && slices.Equal(s.argv, args[:len(s.argv)])
}

var _ remote.Node = (*Node)(nil)

// NewNode returns an empty node that knows user and group 0 as "root".
func NewNode(name string) *Node {
	return &Node{
		name:   name,
		files:  map[string]File{},
		users:  map[int]string{0: "root"},
		groups: map[int]string{0: "root"},
		links:  map[string]string{},
		mounts: map[string]Mount{"/": {Free: DefaultFree}},
		tcp:    map[string]func(net.Conn){},
	}
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// SetUser names uid (for FileInfo.Owner).
func (n *Node) SetUser(uid int, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.users[uid] = name
}

// SetGroup names gid (for FileInfo.Group).
func (n *Node) SetGroup(gid int, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups[gid] = name
}

// SetFile creates or replaces a file.
func (n *Node) SetFile(path string, f File) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f.Data = bytes.Clone(f.Data)
	n.files[path] = f
	delete(n.links, path)
}

// RemoveFile deletes a file or symbolic link.
func (n *Node) RemoveFile(path string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.files, path)
	delete(n.links, path)
}

// File returns a copy of a file and whether it exists.
func (n *Node) File(path string) (File, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f, ok := n.files[path]
	f.Data = bytes.Clone(f.Data)
	return f, ok
}

// Paths returns the paths of every file and symbolic link, sorted: what a
// scripted `find` or `ls` answers from.
func (n *Node) Paths() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	paths := make([]string, 0, len(n.files)+len(n.links))
	for p := range n.files {
		paths = append(paths, p)
	}
	for p := range n.links {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// Handle scripts every Run whose argv starts with prefix. The longest
// matching prefix wins (counted in characters of the joined argv, so Handle
// and HandleLine scripts compete fairly); among equal ones, the latest
// registered.
func (n *Node) Handle(prefix []string, h Handler) {
	n.HandleContext(prefix, func(_ context.Context, cmd remote.Command, stdin []byte) (remote.Result, error) {
		return h(cmd, stdin)
	})
}

// HandleContext is Handle for a handler that needs the Run's context.
func (n *Node) HandleContext(prefix []string, h ContextHandler) {
	n.addScript(script{argv: slices.Clone(prefix), line: strings.Join(prefix, " "), h: h})
}

// HandleLine scripts every Run whose argv, joined by spaces, starts with
// line: the way to tell commands apart by the start of one long argument,
// such as the first line of an `sh -c` script ("sh -c # kmsctl-filecheck").
// It is the rule Fault.Match uses for Run; precedence as for Handle.
func (n *Node) HandleLine(line string, h ContextHandler) {
	n.addScript(script{line: line, byLine: true, h: h})
}

func (n *Node) addScript(s script) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.scripts = append(n.scripts, s)
}

// Respond scripts a fixed result for argv starting with prefix.
func (n *Node) Respond(prefix []string, res remote.Result) {
	n.Handle(prefix, func(remote.Command, []byte) (remote.Result, error) { return res, nil })
}

// HandleTCP serves DialTCP(addr): h gets the node side of an in-memory pipe.
// The empty addr serves every address that has no handler of its own.
func (n *Node) HandleTCP(addr string, h func(net.Conn)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tcp[addr] = h
}

// ForwardTCP makes DialTCP(addr) connect to the real address target (e.g. an
// httptest server on loopback).
func (n *Node) ForwardTCP(addr, target string) {
	n.HandleTCP(addr, func(c net.Conn) { Forward(c, target) })
}

// Forward connects c (the node side of a DialTCP) to the real address
// target and copies both ways until both ends close: the body of
// ForwardTCP, for handlers that do something first (count, delay).
func Forward(c net.Conn, target string) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c); _ = up.(*net.TCPConn).CloseWrite() }()
	_, _ = io.Copy(c, up)
}

// ForwardAllTCP makes DialTCP of any address without a handler of its own
// connect to that address from the test process, as if the node and the
// test shared the network: a node reaching whatever test server (a fake
// Vault on loopback) the code under test names.
func (n *Node) ForwardAllTCP() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.forwardAll = true
}

// RefuseSudo plays a node whose sudo refuses (a password is required, the
// user is not in sudoers): every Run that asks for root exits 1 with
// stderr, and file operations, which need root, fail with it.
func (n *Node) RefuseSudo(stderr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sudoRefused = stderr
}

// sudoError is the file operations' error on a node whose sudo refuses.
func (n *Node) sudoError(op, path string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sudoRefused == "" {
		return nil
	}
	return n.errorf("%s %s: %s", op, path, n.sudoRefused)
}

// Closed reports whether Close was called.
func (n *Node) Closed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Close marks the node closed; later operations fail with net.ErrClosed.
func (n *Node) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, Call{Op: OpClose})
	n.closed = true
	return nil
}

// ownerNames fills in the names of f (caller holds mu).
func (n *Node) ownerNames(f File) (string, string) {
	owner, group := f.Owner, f.Group
	if owner == "" {
		owner = nameOr(n.users, f.UID)
	}
	if group == "" {
		group = nameOr(n.groups, f.GID)
	}
	return owner, group
}

func nameOr(names map[int]string, id int) string {
	if name, ok := names[id]; ok {
		return name
	}
	return strconv.Itoa(id)
}

// errorf prefixes the node name like the SSH implementation does.
func (n *Node) errorf(format string, args ...any) error {
	return fmt.Errorf("node %s: "+format, append([]any{n.name}, args...)...)
}

// begin records call, then returns the injected or lifecycle error, if any.
func (n *Node) begin(ctx context.Context, c Call) error {
	n.mu.Lock()
	n.calls = append(n.calls, c)
	closed := n.closed
	fault := n.matchFault(c)
	n.mu.Unlock()
	if closed {
		return n.errorf("%s: %w", c.Op, net.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return n.errorf("%s: %w", c.Op, err)
	}
	if fault == nil {
		return nil
	}
	if fault.Block {
		<-ctx.Done()
		return n.errorf("%s: %w", c.Op, ctx.Err())
	}
	return n.errorf("%s: %w", c.Op, fault.Err)
}
