package migrate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/remote"
)

// fileCheckScript reports, for each path, what a later atomic write needs:
// the file's type (symbolic links are refused: the write replaces the path
// itself, and following the link would edit a file the inventory does not
// name), its size, whether its directory is writable by root on a
// read-write mount, and the bytes free there and in the backup directory
// (its nearest existing parent). It changes nothing.
const fileCheckScript = `# kmsctl-filecheck
b=$1; shift
while [ ! -d "$b" ]; do b=$(dirname -- "$b"); done
bfree=$(df -P -B1 -- "$b" 2>/dev/null | awk 'NR==2{print $4}')
for p in "$@"; do
  d=$(dirname -- "$p")
  if [ -L "$p" ]; then t=link; elif [ -f "$p" ]; then t=file; elif [ -e "$p" ]; then t=other; else t=missing; fi
  s=$(stat -L -c %s -- "$p" 2>/dev/null || echo 0)
  w=no; [ -d "$d" ] && [ -w "$d" ] && w=yes
  ro=no; findmnt -n -o OPTIONS -T "$d" 2>/dev/null | tr ',' '\n' | grep -qx ro && ro=yes
  free=$(df -P -B1 -- "$d" 2>/dev/null | awk 'NR==2{print $4}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$t" "$s" "$w" "$ro" "${free:--1}" "${bfree:--1}" "$(readlink -- "$p" 2>/dev/null)"
done
`

// writeMargin is the room kept beyond the temporary file and the backup.
const writeMargin = 64 << 10

// CheckFiles proves, before any node is changed, that every file a run
// edits on this node can be written atomically and backed up: a regular
// file (or absent, for the env file), a writable directory on a read-write
// file system, and room for the temporary file and the backup with margin.
// Each problem names the node, the path and the reason.
func CheckFiles(ctx context.Context, t *Target) error {
	paths := []string{t.ConfigPath, t.EnvPath}
	args := append([]string{"sh", "-c", fileCheckScript, "sh", t.BackupDir}, paths...)
	res, err := t.Node.Run(ctx, remote.Command{Args: args, Sudo: true})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	if err != nil {
		return fmt.Errorf("node %s: check files: %w", t.Name, err)
	}
	var errs []error
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := judgeFile(t.Name, strings.Split(line, "\t")); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// judgeFile reads one line of the script's report.
func judgeFile(node string, f []string) error {
	if len(f) < 8 {
		return fmt.Errorf("node %s: check files: unexpected output %q", node, strings.Join(f, " "))
	}
	p, kind, dir := f[0], f[1], path.Dir(f[0])
	size, _ := strconv.ParseInt(f[2], 10, 64)
	free, _ := strconv.ParseInt(f[5], 10, 64)
	bfree, _ := strconv.ParseInt(f[6], 10, 64)
	need := size + 4<<10 + writeMargin
	switch {
	case kind == "link":
		return fmt.Errorf("node %s: %s is a symbolic link (to %s): kmsctl replaces files atomically and does not follow links; point the unit and the inventory at the real file", node, p, f[7])
	case kind == "other":
		return fmt.Errorf("node %s: %s is not a regular file", node, p)
	case f[4] == "yes":
		return fmt.Errorf("node %s: %s: read-only file system", node, dir)
	case f[3] != "yes":
		return fmt.Errorf("node %s: %s: directory not writable", node, dir)
	case free >= 0 && free < need:
		return fmt.Errorf("node %s: %s: no space left on device (needs %s, %s free)", node, dir, kib(need), kib(free))
	case bfree >= 0 && bfree < size+writeMargin:
		return fmt.Errorf("node %s: backup directory: no room for the backup of %s (needs %s, %s free)", node, p, kib(size+writeMargin), kib(bfree))
	}
	return nil
}

func kib(n int64) string { return fmt.Sprintf("%d KiB", (n+1023)/1024) }

// CheckNodes is the file preflight of every node, run before the first
// change (and by the dry run): the unit's real files, other sources of the
// HSM key, and whether each file can be written and backed up.
func CheckNodes(ctx context.Context, targets []*Target, parallel int) error {
	return remote.ForEach(targets, parallel, func(_ int, t *Target) error {
		if err := ResolveUnitFiles(ctx, t); err != nil {
			return err
		}
		return CheckFiles(ctx, t)
	})
}

// environScript exits 0 when the process $1 has MINIO_KMS_HSM_KEY in its
// environment, 1 when not; it prints nothing (the value never leaves the node).
const environScript = `# kmsctl-environ
[ -r "/proc/$1/environ" ] || exit 2
tr '\0' '\n' < "/proc/$1/environ" | grep -q '^MINIO_KMS_HSM_KEY='
`

// KeyInProcess reports whether the unit's main process still has the HSM
// key in its environment, read as root from /proc/<MainPID>/environ: the
// proof, after stage 2, that no other source still hands the daemon the key.
func KeyInProcess(ctx context.Context, t *Target, pid int) (bool, error) {
	res, err := t.Node.Run(ctx, remote.Command{Args: []string{"sh", "-c", environScript, "sh", strconv.Itoa(pid)}, Sudo: true})
	if err != nil {
		return false, fmt.Errorf("node %s: read the environment of pid %d: %w", t.Name, pid, err)
	}
	switch res.ExitCode {
	case 0:
		return true, nil
	case 1:
		return false, nil
	}
	return false, fmt.Errorf("node %s: cannot read /proc/%d/environ (exit %d)", t.Name, pid, res.ExitCode)
}
