package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// entry is one file, directory or symlink to create in an overlay upper dir.
type entry struct {
	rel      string // path inside the overlay, e.g. "ssh/sshd_config.d/00-kmslab.conf"
	data     []byte
	mode     os.FileMode
	uid, gid int
	link     string // symlink target when set
	dir      bool
}

func file(rel string, data []byte, mode os.FileMode) entry {
	return entry{rel: rel, data: data, mode: mode}
}

func owned(e entry, uid, gid int) entry { e.uid, e.gid = uid, gid; return e }

func symlink(rel, target string) entry { return entry{rel: rel, link: target} }

func dir(rel string, mode os.FileMode, uid, gid int) entry {
	return entry{rel: rel, dir: true, mode: mode, uid: uid, gid: gid}
}

// writeTree creates the entries under upper. Parent directories copy mode and
// owner from the lower (host) directory, because in an overlay the upper
// directory's attributes win: a 0700 /etc/ssh in the upper would break sshd.
func writeTree(upper, lower string, entries []entry) error {
	for _, e := range entries {
		if err := mkdirLike(upper, lower, filepath.Dir(e.rel)); err != nil {
			return err
		}
		if err := writeEntry(filepath.Join(upper, e.rel), e); err != nil {
			return fmt.Errorf("write %s: %w", e.rel, err)
		}
	}
	return nil
}

func writeEntry(p string, e entry) error {
	_ = os.RemoveAll(p)
	switch {
	case e.link != "":
		return os.Symlink(e.link, p)
	case e.dir:
		if err := os.Mkdir(p, e.mode); err != nil {
			return err
		}
	default:
		if err := os.WriteFile(p, e.data, e.mode); err != nil {
			return err
		}
	}
	if err := os.Chmod(p, e.mode); err != nil {
		return err
	}
	return os.Lchown(p, e.uid, e.gid)
}

// mkdirLike creates upper/rel component by component, each with the mode and
// owner of lower/<same path> when that exists, else root 0755.
func mkdirLike(upper, lower, rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		p := filepath.Join(upper, cur)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		mode, uid, gid := os.FileMode(0o755), 0, 0
		if fi, err := os.Stat(filepath.Join(lower, cur)); err == nil && fi.IsDir() {
			mode = fi.Mode().Perm() | fi.Mode()&os.ModeSticky
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				uid, gid = int(st.Uid), int(st.Gid)
			}
		}
		if err := os.Mkdir(p, mode); err != nil {
			return fmt.Errorf("mkdir %s: %w", p, err)
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}
