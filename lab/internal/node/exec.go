package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Booted reports whether pid is a node's systemd. Until __boot has mounted the
// node's file system and exec'd systemd, entering its mount namespace would
// act on the host's /etc: nothing may enter a node before that.
func Booted(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return fmt.Errorf("node process %d is gone: %w", pid, err)
	}
	if strings.TrimSpace(string(b)) != "systemd" {
		return fmt.Errorf("node process %d is not (yet) systemd", pid)
	}
	return nil
}

// Command returns a command that runs inside the node (all its namespaces, its
// root and working directory) without SSH, through nsenter on its PID 1.
func Command(ctx context.Context, pid int, argv ...string) (*exec.Cmd, error) {
	if err := Booted(pid); err != nil {
		return nil, err
	}
	args := append([]string{"-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w", "--"}, argv...)
	return exec.CommandContext(ctx, "nsenter", args...), nil
}

// Output runs argv inside the node and returns its stdout.
func Output(ctx context.Context, pid int, stdin []byte, argv ...string) ([]byte, error) {
	if err := Booted(pid); err != nil {
		return nil, err
	}
	args := append([]string{"-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w", "--"}, argv...)
	out, err := output(ctx, stdin, "nsenter", args...)
	if err != nil {
		return out, fmt.Errorf("in node (pid %d): %w", pid, err)
	}
	return out, nil
}

// WriteFile writes content to path inside the node (through the node's overlay),
// creating the parent directory. The content goes over stdin, never argv.
func WriteFile(ctx context.Context, pid int, path string, content []byte, mode string) error {
	_, err := Output(ctx, pid, content, "install", "-D", "-m", mode, "/dev/stdin", path)
	return err
}

// RemoveFile removes path inside the node; a missing file is fine.
func RemoveFile(ctx context.Context, pid int, path string) error {
	_, err := Output(ctx, pid, nil, "rm", "-f", "--", path)
	return err
}

// ReadFile reads path inside the node.
func ReadFile(ctx context.Context, pid int, path string) ([]byte, error) {
	return Output(ctx, pid, nil, "cat", "--", path)
}
