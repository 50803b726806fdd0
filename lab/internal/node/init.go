package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// systemdPath is Debian's systemd binary.
const systemdPath = "/lib/systemd/systemd"

type mountOp struct {
	src, target, fstype string
	flags               uintptr
	data                string
}

// Init runs inside a new node as PID 1 (args: node dir, bin dir, index): it
// builds the node's file system view and execs systemd. Nothing it mounts
// propagates to the host, because the root is made private first.
func Init(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: lab %s NODEDIR BINDIR INDEX", BootCommand)
	}
	nodeDir, binDir := args[0], args[1]
	idx, err := strconv.Atoi(args[2])
	if err != nil {
		return fmt.Errorf("node index: %w", err)
	}
	s := Spec{Index: idx}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	for _, m := range mounts(nodeDir, binDir) {
		if err := unix.Mount(m.src, m.target, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype+m.src, m.target, err)
		}
	}
	if err := populateDev(); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(s.Name())); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	env := []string{"container=lab", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return syscall.Exec(systemdPath, []string{systemdPath, "--unit=kmslab.target"}, env)
}

// mounts lists the node's mounts in order. Overlays and the bin bind come first
// (their sources lie in the lab directory), then the lab directory is hidden
// under an empty tmpfs and this namespace's view of the host root becomes
// read-only: a node writes only to its overlays and its own tmpfs mounts.
func mounts(nodeDir, binDir string) []mountOp {
	var ms []mountOp
	for _, o := range Overlays {
		opts := fmt.Sprintf("lowerdir=/%s,upperdir=%s,workdir=%s", o, Upper(nodeDir, o), work(nodeDir, o))
		ms = append(ms, mountOp{"overlay", "/" + o, "overlay", 0, opts})
	}
	ro := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	labDir := filepath.Dir(filepath.Dir(nodeDir))
	return append(ms,
		mountOp{"/usr", "/usr", "", unix.MS_BIND | unix.MS_REC, ""},
		mountOp{"", "/usr", "", ro, ""},
		mountOp{binDir, "/usr/local/bin", "", unix.MS_BIND, ""},
		mountOp{"", "/usr/local/bin", "", ro, ""},
		mountOp{"tmpfs", labDir, "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=700,size=1m"},
		mountOp{"", "/", "", ro, ""},
		mountOp{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		mountOp{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=755"},
		mountOp{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		mountOp{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		mountOp{"cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		mountOp{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID, "mode=755"},
	)
}

// populateDev gives the node a minimal /dev of its own: the host's devices
// (disks, consoles) stay invisible.
func populateDev() error {
	devs := []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}
	for _, d := range devs {
		p := "/dev/" + d.name
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		if err := os.Chmod(p, 0o666); err != nil {
			return err
		}
	}
	for _, d := range []string{"/dev/pts", "/dev/shm"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); err != nil {
		return fmt.Errorf("mount devpts: %w", err)
	}
	if err := unix.Mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	links := map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join("/dev", name)); err != nil {
			return err
		}
	}
	return nil
}
