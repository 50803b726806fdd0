package remotetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/kmsctl/kmsctl/remote"
)

// Run answers with the handler of the longest matching argv prefix; with
// none, exit status 127 like a shell that cannot find the program.
func (n *Node) Run(ctx context.Context, cmd remote.Command) (remote.Result, error) {
	var stdin []byte
	if cmd.Stdin != nil {
		var err error
		if stdin, err = io.ReadAll(cmd.Stdin); err != nil {
			return remote.Result{}, n.errorf("run: reading stdin: %w", err)
		}
	}
	c := Call{Op: OpRun, Args: slices.Clone(cmd.Args), Stdin: stdin, Sudo: cmd.Sudo}
	if err := n.begin(ctx, c); err != nil {
		return remote.Result{}, err
	}
	if len(cmd.Args) == 0 {
		return remote.Result{}, n.errorf("empty command")
	}
	if refused := n.refusedSudo(cmd); refused != nil {
		return *refused, nil
	}
	h := n.handler(cmd.Args)
	if h == nil {
		msg := fmt.Sprintf("remotetest: %s: no script for %q\n", n.name, strings.Join(cmd.Args, " "))
		return remote.Result{ExitCode: 127, Stderr: []byte(msg)}, nil
	}
	cmd.Stdin = bytes.NewReader(stdin)
	return h(ctx, cmd, stdin)
}

// refusedSudo is the result of cmd on a node whose sudo refuses; nil
// when cmd runs.
func (n *Node) refusedSudo(cmd remote.Command) *remote.Result {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !cmd.Sudo || n.sudoRefused == "" {
		return nil
	}
	return &remote.Result{ExitCode: 1, Stderr: []byte(n.sudoRefused)}
}

// handler finds the script for args.
func (n *Node) handler(args []string) ContextHandler {
	n.mu.Lock()
	defer n.mu.Unlock()
	joined := strings.Join(args, " ")
	var best *script
	for i := range n.scripts {
		s := &n.scripts[i]
		if s.matches(args, joined) && (best == nil || len(s.line) >= len(best.line)) {
			best = s
		}
	}
	if best == nil {
		return nil
	}
	return best.h
}

// ReadFile returns a copy of the file's content and its metadata.
func (n *Node) ReadFile(ctx context.Context, path string) ([]byte, remote.FileInfo, error) {
	if err := n.begin(ctx, Call{Op: OpReadFile, Path: path}); err != nil {
		return nil, remote.FileInfo{}, err
	}
	if err := n.sudoError("read", path); err != nil {
		return nil, remote.FileInfo{}, err
	}
	fi, data, err := n.lookup("read", path)
	return data, fi, err
}

// Stat returns the file's metadata.
func (n *Node) Stat(ctx context.Context, path string) (remote.FileInfo, error) {
	if err := n.begin(ctx, Call{Op: OpStat, Path: path}); err != nil {
		return remote.FileInfo{}, err
	}
	if err := n.sudoError("stat", path); err != nil {
		return remote.FileInfo{}, err
	}
	fi, _, err := n.lookup("stat", path)
	return fi, err
}

// lookup returns path's metadata and content, following symbolic links
// for the content only (see SetLink).
func (n *Node) lookup(op, path string) (remote.FileInfo, []byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f, err := n.resolve(op, path)
	if err != nil {
		return remote.FileInfo{}, nil, err
	}
	meta := f
	if target, ok := n.links[path]; ok {
		meta = File{Data: []byte(target), Mode: 0o777}
	}
	owner, group := n.ownerNames(meta)
	fi := remote.FileInfo{Path: path, Mode: meta.Mode, UID: meta.UID, GID: meta.GID, Size: int64(len(meta.Data)), Owner: owner, Group: group}
	return fi, bytes.Clone(f.Data), nil
}

// WriteFileAtomic replaces the file with data, mode and owner from opts,
// unless the path is a symbolic link, its file system is read-only or too
// full (see Mount), or the write hook refuses it: then nothing changes.
func (n *Node) WriteFileAtomic(ctx context.Context, path string, data []byte, opts remote.WriteOptions) error {
	c := Call{Op: OpWriteFileAtomic, Path: path, Data: bytes.Clone(data), Write: opts}
	if err := n.begin(ctx, c); err != nil {
		return err
	}
	if err := n.sudoError("write", path); err != nil {
		return err
	}
	if err := n.writeRefusal(path, len(data)); err != nil {
		return err
	}
	if err := n.runWriteHook(path, data, opts); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files[path] = File{Data: bytes.Clone(data), Mode: opts.Mode, UID: opts.UID, GID: opts.GID}
	return nil
}

// DialTCP connects to the handler registered for addr, else (ForwardAllTCP)
// to addr itself, else to the catch-all handler; without one the
// connection is refused. The connection is a *Conn.
func (n *Node) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if err := n.begin(ctx, Call{Op: OpDialTCP, Addr: addr}); err != nil {
		return nil, err
	}
	n.mu.Lock()
	h, ok := n.tcp[addr]
	if !ok {
		h = n.tcp[""]
	}
	forward := n.forwardAll && !ok
	n.mu.Unlock()
	if forward {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, n.errorf("dial %s: %w", addr, err)
		}
		return &Conn{Conn: c, Node: n.name, Addr: addr}, nil
	}
	if h == nil {
		return nil, n.errorf("dial %s: %w", addr, syscall.ECONNREFUSED)
	}
	client, server := net.Pipe()
	go h(server)
	return &Conn{Conn: client, Node: n.name, Addr: addr}, nil
}

// Conn is the client side of a DialTCP connection, named by node and
// address, so a fake API client handed a node's tunnel can tell whose API
// it stands for without speaking the protocol.
type Conn struct {
	net.Conn
	// Node is the name of the node that dialled.
	Node string
	// Addr is the address dialled from the node.
	Addr string
}
