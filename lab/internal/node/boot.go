package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// BootCommand is the hidden `lab` sub-command that runs as PID 1 of a new node,
// mounts its file system and execs systemd (see Init).
const BootCommand = "__boot"

// Boot starts a node: `lab __boot` (then systemd) as PID 1 in new pid, mount,
// uts and cgroup namespaces, placed into the node's own cgroup (so the cgroup
// namespace is rooted there) and joined to the node's network namespace by
// nsenter. It returns the host PID of the node's PID 1 without waiting for it.
func Boot(labBin, nodeDir, binDir string, s Spec) (int, error) {
	cg, err := makeCgroup(s)
	if err != nil {
		return 0, err
	}
	defer cg.Close()
	console, err := os.OpenFile(filepath.Join(nodeDir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("console log of %s: %w", s.Name(), err)
	}
	defer console.Close()
	cmd := exec.Command("nsenter", "--net=/run/netns/"+s.Netns(), "--",
		labBin, BootCommand, nodeDir, binDir, strconv.Itoa(s.Index))
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "container=lab"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP,
		Setsid:      true,
		UseCgroupFD: true,
		CgroupFD:    int(cg.Fd()),
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("boot %s: %w", s.Name(), err)
	}
	pid := cmd.Process.Pid
	// The node outlives this process; the kernel reparents it, nothing waits here.
	_ = cmd.Process.Release()
	return pid, nil
}
