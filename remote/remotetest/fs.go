package remotetest

import (
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/kmsctl/kmsctl/remote"
)

// Mount is one file system of a fake node: what makes a write fail on a
// real node although the file is fine (a read-only /etc, a full disk), and
// what a scripted `df` or `findmnt` answers from (MountOf).
type Mount struct {
	// ReadOnly makes every write under the mount fail with "Read-only file
	// system", as on a node whose /etc is mounted ro.
	ReadOnly bool
	// Free is the bytes free, as df reports them. A write of more data
	// fails with "No space left on device" (the temporary file does not
	// fit). Writes do not use it up: a test sets the figure it needs.
	Free int64
}

// DefaultFree is the free space of a node's root file system until Mount
// says otherwise: room for any file a test writes.
const DefaultFree = 1 << 30

// WriteHook sees every WriteFileAtomic that would succeed, before it lands,
// so a model built on the node can follow its files (log the write, react
// to a new config). An error refuses the write: nothing changes and the
// caller gets the error, wrapped like a failed write of the real transport.
type WriteHook func(path string, data []byte, opts remote.WriteOptions) error

// maxLinks is how many symbolic links a lookup follows before giving up,
// as the kernel does (ELOOP).
const maxLinks = 40

// Mount makes dir a mount point with m's properties; a path belongs to the
// longest mount point that contains it ("/" by default).
func (n *Node) Mount(dir string, m Mount) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mounts[path.Clean(dir)] = m
}

// MountOf returns the mount point holding p and its properties.
func (n *Node) MountOf(p string) (string, Mount) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mountOf(p)
}

// mountOf is MountOf with mu held.
func (n *Node) mountOf(p string) (string, Mount) {
	best := "/"
	for dir := range n.mounts {
		if (p == dir || strings.HasPrefix(p, dir+"/")) && len(dir) > len(best) {
			best = dir
		}
	}
	return best, n.mounts[best]
}

// SetLink makes path a symbolic link to target (relative targets are taken
// from path's directory), replacing any file there. Reads follow it the
// way the real transport's do (stat without -L, then cat): ReadFile
// returns the target's content with the link's own metadata, Stat the
// link's (mode 0777, size the length of target). WriteFileAtomic refuses
// it, as the real write script does.
func (n *Node) SetLink(path, target string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.files, path)
	n.links[path] = target
}

// Link returns the target of the symbolic link at path and whether there
// is one: what a scripted `readlink` or `[ -L ]` answers from.
func (n *Node) Link(path string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	target, ok := n.links[path]
	return target, ok
}

// OnWrite installs h (replacing any earlier hook). It is called without
// the node's lock held, so it may use the node.
func (n *Node) OnWrite(h WriteHook) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onWrite = h
}

// resolve follows the links from p to the file it names (caller holds mu).
func (n *Node) resolve(op, p string) (File, error) {
	for range maxLinks {
		target, ok := n.links[p]
		if !ok {
			f, ok := n.files[p]
			if !ok {
				return File{}, n.errorf("%w", &fs.PathError{Op: op, Path: p, Err: fs.ErrNotExist})
			}
			return f, nil
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		p = target
	}
	return File{}, n.errorf("%w", &fs.PathError{Op: op, Path: p, Err: syscall.ELOOP})
}

// writeRefusal is why a write of size bytes to p fails on this node's file
// systems, as the real write script reports it; nil when it would land.
func (n *Node) writeRefusal(p string, size int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	dir, base := path.Dir(p), path.Base(p)
	tmp := dir + "/." + base + ".kmsctl-XXXXXX"
	_, m := n.mountOf(dir)
	var stderr string
	switch {
	case n.links[p] != "":
		stderr = "kmsctl-write: " + p + " is a symbolic link; refusing to replace it"
	case m.ReadOnly:
		stderr = "mktemp: failed to create file via template '" + tmp + "': Read-only file system\nkmsctl-write: cannot create a temporary file in " + dir
	case int64(size) > m.Free:
		stderr = "cat: write error: No space left on device\nkmsctl-write: writing " + tmp + " failed"
	default:
		return nil
	}
	return n.errorf("write %s: exit status 1: %s", p, stderr)
}

// runWriteHook passes a write to the hook, if any.
func (n *Node) runWriteHook(p string, data []byte, opts remote.WriteOptions) error {
	n.mu.Lock()
	h := n.onWrite
	n.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h(p, data, opts); err != nil {
		return n.errorf("write %s: %w", p, err)
	}
	return nil
}
