package remote

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// statFormat is GNU stat's format for FileInfo: octal mode, numeric owner and
// group, size, owner and group names. The names come last: they are the only
// fields that could be odd ("UNKNOWN").
const statFormat = "%a %u %g %s %U %G"

// readScript prints the stat line, then the content, in one round trip.
// The path is "$1", never part of the script.
const readScript = `LC_ALL=C stat -c '` + statFormat + `' -- "$1" && exec cat -- "$1"`

// Stat returns the metadata of path (as root when sudo is configured).
func (n *sshNode) Stat(ctx context.Context, path string) (FileInfo, error) {
	res, err := n.Run(ctx, Command{Args: []string{"env", "LC_ALL=C", "stat", "-c", statFormat, "--", path}, Sudo: true})
	if err != nil {
		return FileInfo{}, err
	}
	if res.ExitCode != 0 {
		return FileInfo{}, n.fileError("stat", path, res)
	}
	return parseStat(path, strings.TrimSpace(string(res.Stdout)))
}

// ReadFile returns the content and metadata of path (as root when sudo is
// configured).
func (n *sshNode) ReadFile(ctx context.Context, path string) ([]byte, FileInfo, error) {
	res, err := n.Run(ctx, Command{Args: []string{"sh", "-c", readScript, "sh", path}, Sudo: true})
	if err != nil {
		return nil, FileInfo{}, err
	}
	if res.ExitCode != 0 {
		return nil, FileInfo{}, n.fileError("read", path, res)
	}
	head, body, ok := bytes.Cut(res.Stdout, []byte("\n"))
	if !ok {
		return nil, FileInfo{}, fmt.Errorf("node %s: read %s: no stat line in output", n.t.Name, path)
	}
	fi, err := parseStat(path, string(head))
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("node %s: %w", n.t.Name, err)
	}
	return body, fi, nil
}

// fileError turns a failed file command into an error; a missing file
// matches fs.ErrNotExist, a refused one fs.ErrPermission.
func (n *sshNode) fileError(op, path string, res Result) error {
	msg := trimmed(res.Stderr)
	switch {
	case strings.Contains(msg, "No such file or directory"):
		return fmt.Errorf("node %s: %w", n.t.Name, &fs.PathError{Op: op, Path: path, Err: fs.ErrNotExist})
	case strings.Contains(msg, "Permission denied"):
		return fmt.Errorf("node %s: %w: %s", n.t.Name, &fs.PathError{Op: op, Path: path, Err: fs.ErrPermission}, msg)
	}
	return fmt.Errorf("node %s: %s %s: exit status %d: %s", n.t.Name, op, path, res.ExitCode, msg)
}

// parseStat parses one line printed with statFormat.
func parseStat(path, line string) (FileInfo, error) {
	f := strings.Fields(line)
	if len(f) != 6 {
		return FileInfo{}, fmt.Errorf("stat %s: unexpected output %q", path, line)
	}
	mode, err1 := strconv.ParseUint(f[0], 8, 32)
	uid, err2 := strconv.Atoi(f[1])
	gid, err3 := strconv.Atoi(f[2])
	size, err4 := strconv.ParseInt(f[3], 10, 64)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return FileInfo{}, fmt.Errorf("stat %s: unexpected output %q: %w", path, line, err)
		}
	}
	return FileInfo{Path: path, Mode: modeFromOctal(uint32(mode)), UID: uid, GID: gid, Size: size, Owner: f[4], Group: f[5]}, nil
}

// modeFromOctal maps chmod's octal bits to fs.FileMode.
func modeFromOctal(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// octalFromMode maps fs.FileMode back to chmod's octal bits.
func octalFromMode(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}
