package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// binaries are what up runs: this lab binary (re-executed inside each node),
// the stand-in copied into every node, and the lab source dir (to build Vault).
type binaries struct {
	lab, minkms, src string
}

// findBinaries locates the stand-in next to this executable (lab/.bin, where the
// lab wrapper builds both) and builds Vault into the cache only when missing.
func findBinaries(ctx context.Context) (binaries, error) {
	exe, err := os.Executable()
	if err != nil {
		return binaries{}, fmt.Errorf("find lab executable: %w", err)
	}
	b := binaries{lab: exe, minkms: filepath.Join(filepath.Dir(exe), "minkms"), src: os.Getenv("LAB_SRC_DIR")}
	if b.src == "" {
		b.src = filepath.Dir(filepath.Dir(exe))
	}
	if _, err := os.Stat(b.minkms); err != nil {
		return b, fmt.Errorf("stand-in not built (%s): run lab through the lab/lab wrapper: %w", b.minkms, err)
	}
	if err := vaultlab.Build(ctx, b.src); err != nil {
		return b, err
	}
	return b, nil
}

// prepareHost creates DIR, copies the stand-in into DIR/bin and raises the
// inotify instance limit (each node's systemd takes 3 of the default 128).
func prepareHost(ctx context.Context, l labdir.Layout, b binaries) error {
	if err := l.Mkdirs(); err != nil {
		return fmt.Errorf("create %s: %w", l.Root, err)
	}
	if err := copyFile(b.minkms, filepath.Join(l.BinDir(), "minkms"), 0o755); err != nil {
		return fmt.Errorf("install stand-in: %w", err)
	}
	return raiseSysctl("/proc/sys/fs/inotify/max_user_instances", 1024)
}

func raiseSysctl(path string, min int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	cur, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err == nil && cur >= min {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(min)), 0o644); err != nil {
		return fmt.Errorf("raise %s to %d: %w", path, min, err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// processRuns reports whether pid is alive and its command line contains marker,
// so a recycled PID is never taken for one of ours.
func processRuns(pid int, marker string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), marker)
}

// spawnDetached starts a long-running helper (own session, output to logFile).
func spawnDetached(logFile string, name string, args ...string) (int, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = detachedAttr()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, nil
}
