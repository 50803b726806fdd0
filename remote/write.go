package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeScript replaces "$1" atomically with its stdin. Arguments: PATH MODE
// (octal) UID GID SIZE. The data arrive on stdin, never in argv. Steps: a
// temporary file in the same directory (so the rename cannot cross file
// systems), the exact byte count checked (a cut connection must not install
// a truncated file), owner then mode (chown clears set-id bits), fsync of the
// file, rename, fsync of the directory, and a final stat line so the caller
// can verify the result. On any failure the temporary file is removed and
// the original is untouched. Symbolic links are refused rather than silently
// replaced by a regular file.
const writeScript = `set -u
p=$1 m=$2 u=$3 g=$4 n=$5
fail() { printf 'kmsctl-write: %s\n' "$1" >&2; exit 1; }
[ -L "$p" ] && fail "$p is a symbolic link; refusing to replace it"
d=$(dirname -- "$p") && b=$(basename -- "$p") || fail "bad path $p"
t=$(mktemp -- "$d/.$b.kmsctl-XXXXXX") || fail "cannot create a temporary file in $d"
trap 'rm -f -- "$t"' EXIT
trap 'exit 1' HUP INT TERM PIPE
cat > "$t" || fail "writing $t failed"
s=$(wc -c < "$t") || fail "cannot measure $t"
[ "$s" -eq "$n" ] || fail "received $s of $n bytes; input cut off"
chown -- "$u:$g" "$t" || fail "chown $u:$g failed"
chmod -- "$m" "$t" || fail "chmod $m failed"
sync -- "$t" 2>/dev/null || dd if=/dev/null of="$t" conv=notrunc,fsync status=none || fail "fsync of $t failed"
mv -f -- "$t" "$p" || fail "rename to $p failed"
trap - EXIT
sync -- "$d" 2>/dev/null || sync || fail "fsync of $d failed"
LC_ALL=C stat -c '` + statFormat + `' -- "$p"
`

// WriteFileAtomic replaces path with data, leaving it with opts' owner and
// mode, and verifies the result by stat.
func (n *sshNode) WriteFileAtomic(ctx context.Context, path string, data []byte, opts WriteOptions) error {
	return n.writeAtomic(ctx, path, bytes.NewReader(data), int64(len(data)), opts)
}

// writeAtomic streams size bytes from r into path (split out so tests can
// cut the stream and watch the temporary file).
func (n *sshNode) writeAtomic(ctx context.Context, path string, r io.Reader, size int64, opts WriteOptions) error {
	if path == "" || strings.HasSuffix(path, "/") {
		return fmt.Errorf("node %s: write %q: not a file path", n.t.Name, path)
	}
	mode := strconv.FormatUint(uint64(octalFromMode(opts.Mode)), 8)
	args := []string{"sh", "-c", writeScript, "sh", path, mode,
		strconv.Itoa(opts.UID), strconv.Itoa(opts.GID), strconv.FormatInt(size, 10)}
	res, err := n.Run(ctx, Command{Args: args, Stdin: r, Sudo: true})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if res.ExitCode != 0 {
		return n.fileError("write", path, res)
	}
	return n.verifyWrite(path, res.Stdout, size, opts)
}

// verifyWrite checks the stat line the script printed after the rename.
func (n *sshNode) verifyWrite(path string, out []byte, size int64, opts WriteOptions) error {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fi, err := parseStat(path, lines[len(lines)-1])
	if err != nil {
		return fmt.Errorf("node %s: write %s: verifying: %w", n.t.Name, path, err)
	}
	want := octalFromMode(opts.Mode)
	if got := octalFromMode(fi.Mode); got != want || fi.UID != opts.UID || fi.GID != opts.GID || fi.Size != size {
		return fmt.Errorf("node %s: write %s: file is mode %o owner %d:%d size %d after the write, asked mode %o owner %d:%d size %d",
			n.t.Name, path, got, fi.UID, fi.GID, fi.Size, want, opts.UID, opts.GID, size)
	}
	return nil
}
