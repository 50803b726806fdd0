package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cgroupRoot finds the host's cgroup2 hierarchy: /sys/fs/cgroup on a pure v2
// host, /sys/fs/cgroup/unified on a hybrid one (as on the lab's build machine).
func cgroupRoot() string {
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
			if isCgroup2(p) {
				return p
			}
		}
	}
	return "/sys/fs/cgroup/unified"
}

func isCgroup2(p string) bool {
	_, err := os.Stat(filepath.Join(p, "cgroup.subtree_control"))
	return err == nil
}

// cgroupParent is the directory holding one cgroup per lab node.
func cgroupParent() string { return filepath.Join(cgroupRoot(), CgroupName) }

// CgroupPath is the node's own cgroup: its systemd and everything it starts.
func CgroupPath(s Spec) string { return filepath.Join(cgroupParent(), s.Name()) }

// makeCgroup creates the node's cgroup and opens it for CLONE_INTO_CGROUP.
func makeCgroup(s Spec) (*os.File, error) {
	p := CgroupPath(s)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", p, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", p, err)
	}
	return f, nil
}

// KillCgroup kills every process of the node's cgroup tree, waits until it is
// empty and removes the directories. Killing by cgroup reaches exactly what the
// node started, and nothing else.
func KillCgroup(s Spec, timeout time.Duration) error {
	p := CgroupPath(s)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(p, "cgroup.kill"), []byte("1"), 0o644); err != nil {
		killProcs(p)
	}
	deadline := time.Now().Add(timeout)
	for populated(p) {
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s still has processes after %s", p, timeout)
		}
		killProcs(p)
		time.Sleep(50 * time.Millisecond)
	}
	return removeTree(p)
}

// RemoveCgroupParent removes the lab's cgroup directory once it is empty.
func RemoveCgroupParent() {
	_ = os.Remove(cgroupParent())
}

// populated reads cgroup.events; a missing file means the cgroup is gone.
func populated(p string) bool {
	b, err := os.ReadFile(filepath.Join(p, "cgroup.events"))
	if err != nil {
		return false
	}
	return strings.Contains(string(b), "populated 1")
}

// killProcs is the fallback for kernels without cgroup.kill: SIGKILL each member.
func killProcs(p string) {
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 0 {
				if proc, err := os.FindProcess(pid); err == nil {
					_ = proc.Kill()
				}
			}
		}
		return nil
	})
}

// removeTree removes a cgroup directory tree bottom-up (cgroupfs only allows rmdir).
func removeTree(p string) error {
	var dirs []string
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove cgroup %s: %w", dirs[i], err)
		}
	}
	return nil
}
