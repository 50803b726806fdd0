package vaultlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long Vault gets to shut down on SIGTERM before SIGKILL;
// it normally needs well under a second.
const stopGrace = 15 * time.Second

// proc is a running Vault. exited is non-nil only when this process
// started it, and is closed once it has been reaped, because a zombie
// child would still look alive in /proc.
type proc struct {
	pid    int
	exited <-chan struct{}
}

// serverArgs is Vault's command line. It carries no secret: the root token
// and unseal key come from sys/init, not from flags (see the package doc).
func serverArgs(cfg Config) []string {
	return []string{
		"server", "-dev", "-dev-skip-init", "-dev-no-store-token",
		"-dev-listen-address=" + cfg.DevAddr,
		"-config=" + cfg.configPath(),
	}
}

// spawn starts Vault detached (own session and process group, stdin
// /dev/null, output appended to the log), so it outlives `lab up` and
// can be stopped as a group by a later `lab down`.
func spawn(cfg Config) (*proc, error) {
	logf, err := os.OpenFile(cfg.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vaultlab: open log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(cfg.Binary, serverArgs(cfg)...)
	// A clean environment: the caller's VAULT_* variables must not
	// change the server, and HOME keeps Vault's files inside Dir.
	cmd.Env = []string{"HOME=" + cfg.Dir, "PATH=/usr/local/bin:/usr/bin:/bin"}
	cmd.Dir = cfg.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("vaultlab: start %s: %w", cfg.Binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p := &proc{pid: cmd.Process.Pid, exited: exited}
	pid := strconv.Itoa(p.pid) + "\n"
	if err := os.WriteFile(cfg.pidPath(), []byte(pid), 0o644); err != nil {
		_ = p.kill(syscall.SIGKILL)
		return nil, fmt.Errorf("vaultlab: write pid file: %w", err)
	}
	return p, nil
}

// findProc returns the Vault recorded in the pid file, or nil when none
// is running. The pid only counts when it still runs cfg.Binary, so a
// recycled pid is never signalled.
func findProc(cfg Config) (*proc, error) {
	b, err := os.ReadFile(cfg.pidPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("vaultlab: read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return nil, fmt.Errorf("vaultlab: bad pid file %s", cfg.pidPath())
	}
	p := &proc{pid: pid}
	if !p.alive() || !runsBinary(pid, cfg.Binary) {
		return nil, nil
	}
	return p, nil
}

// runsBinary reports whether pid executes the file bin.
func runsBinary(pid int, bin string) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		want = bin
	}
	return strings.TrimSuffix(exe, " (deleted)") == want
}

// alive reports whether the process exists and is not a zombie.
func (p *proc) alive() bool {
	if p.exited != nil {
		select {
		case <-p.exited:
			return false
		default:
			return true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// kill signals Vault's whole process group (its session, from Setsid).
func (p *proc) kill(sig syscall.Signal) error {
	err := syscall.Kill(-p.pid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("vaultlab: signal vault (pid %d): %w", p.pid, err)
	}
	return nil
}

// terminate stops Vault: SIGTERM, then SIGKILL after stopGrace, and
// returns once it is gone, so the caller can rely on "connection refused".
func (p *proc) terminate(ctx context.Context) error {
	if err := p.kill(syscall.SIGTERM); err != nil {
		return err
	}
	if p.waitGone(ctx, stopGrace) {
		return nil
	}
	if err := p.kill(syscall.SIGKILL); err != nil {
		return err
	}
	if p.waitGone(ctx, stopGrace) {
		return nil
	}
	return fmt.Errorf("vaultlab: vault (pid %d) did not exit", p.pid)
}

// waitGone polls until the process is gone, d elapses or ctx ends.
func (p *proc) waitGone(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for p.alive() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
