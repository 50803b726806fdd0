// Package remote is the only door kmsctl has to a node: run a command, read,
// stat and atomically write a file, and open a TCP connection from the node.
// Keeping the interface this narrow lets every command be tested against a
// fake node, and keeps golang.org/x/crypto/ssh out of every other package.
package remote

import (
	"context"
	"io"
	"io/fs"
	"net"
	"strings"
)

// Command is one program run on a node. Args are passed as separate words and
// quoted by the transport, never concatenated from untrusted strings; secrets
// go in Stdin, never in Args.
type Command struct {
	// Args is the program and its arguments, e.g. {"systemctl", "restart", "minkms"}.
	Args []string
	// Stdin is fed to the program; nil means no input.
	Stdin io.Reader
	// Sudo runs the command as root through sudo when the login user is not root.
	Sudo bool
}

// Result is what a finished command left behind.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// StderrLine is the first non-blank line of Stderr, trimmed: the part of a
// failed command's complaint that fits in an error message.
func (r Result) StderrLine() string {
	s := strings.TrimSpace(string(r.Stderr))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// FileInfo is what kmsctl needs to know about a remote file to rewrite it
// without changing who may read it.
type FileInfo struct {
	Path  string
	Mode  fs.FileMode // permission bits only
	UID   int
	GID   int
	Size  int64
	Owner string
	Group string
}

// WriteOptions says how an atomic write must leave the file.
type WriteOptions struct {
	// Mode, UID and GID of the new file. Callers normally copy them from the
	// FileInfo of the file being replaced.
	Mode fs.FileMode
	UID  int
	GID  int
}

// Node is one SSH connection to one key manager node, reused for every
// operation of a run. Implementations are safe for concurrent use.
type Node interface {
	// Name is the inventory name of the node, used in every message.
	Name() string
	// Run runs cmd and returns its result. A non-zero exit status is not an
	// error: it is reported in Result.ExitCode. Errors are transport failures.
	Run(ctx context.Context, cmd Command) (Result, error)
	// ReadFile returns the content and metadata of path (as root when sudo is
	// configured). A missing file returns an error matching fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, FileInfo, error)
	// Stat returns the metadata of path; a missing file matches fs.ErrNotExist.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// WriteFileAtomic replaces path with data: a temporary file in the same
	// directory, fsync, chown/chmod, rename, fsync of the directory. Data is
	// sent over stdin, never in argv.
	WriteFileAtomic(ctx context.Context, path string, data []byte, opts WriteOptions) error
	// DialTCP opens a TCP connection from the node to addr (e.g. the key
	// manager API on the node's loopback).
	DialTCP(ctx context.Context, addr string) (net.Conn, error)
	// Close ends the connection.
	Close() error
}
