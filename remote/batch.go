package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// FileOpKind says what one operation of a file batch does.
type FileOpKind int

const (
	// OpExpect checks that Path holds exactly Data (a missing file counts
	// as empty) and fails with ErrFileChanged otherwise: an edit made on the
	// node since kmsctl read the file is never overwritten. (A symbolic link
	// is read through, like ReadFile; the write after it refuses it.)
	OpExpect FileOpKind = iota + 1
	// OpMkdirPrivate creates Path and its parent as root-only (0700)
	// directories, as a backup directory must be.
	OpMkdirPrivate
	// OpWrite replaces Path atomically with Data, with Opts' owner and mode
	// (the contract of Node.WriteFileAtomic).
	OpWrite
	// OpCreate writes Path like OpWrite unless something is there already,
	// which it keeps: the first copy of a backup is never overwritten.
	OpCreate
)

// String names the operation in errors.
func (k FileOpKind) String() string {
	switch k {
	case OpExpect:
		return "check"
	case OpMkdirPrivate:
		return "mkdir"
	case OpWrite, OpCreate:
		return "write"
	}
	return "op" + strconv.Itoa(int(k))
}

// FileOp is one operation of a batch. Data travels on stdin, never in argv.
type FileOp struct {
	Kind FileOpKind
	Path string
	Data []byte
	Opts WriteOptions
}

// ErrFileChanged is the failure of an OpExpect: the file no longer holds
// what the caller read.
var ErrFileChanged = errors.New("file changed on the node")

// BatchError is a batch that stopped at its operation Index: every
// operation before it was done, none after it was tried. Err says why (a
// missing file matches fs.ErrNotExist, a changed one ErrFileChanged).
type BatchError struct {
	Node  string
	Index int
	Op    FileOp
	Err   error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("node %s: %s %s: %v", e.Node, e.Op.Kind, e.Op.Path, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// FilesApplier is a Node that runs a whole batch in one round trip; SSH
// nodes do (one session for a node step's file work instead of six).
type FilesApplier interface {
	ApplyFiles(ctx context.Context, ops []FileOp) error
}

// ApplyFiles runs ops on n in order and stops at the first failure, which
// it returns as a *BatchError. Each write is atomic on its own; the batch
// as a whole is not (a failure leaves the earlier operations done). Nodes
// that are not FilesAppliers run the operations one by one with the same
// meaning (ApplyEach).
func ApplyFiles(ctx context.Context, n Node, ops []FileOp) error {
	if a, ok := n.(FilesApplier); ok {
		return a.ApplyFiles(ctx, ops)
	}
	return ApplyEach(ctx, n, ops)
}

// ApplyEach is the meaning of a batch spelt out with Node's other
// operations: the reference every FilesApplier must agree with (the batch
// tests run the same cases on both), and what fakes use.
func ApplyEach(ctx context.Context, n Node, ops []FileOp) error {
	for i, op := range ops {
		if err := applyOne(ctx, n, op); err != nil {
			return &BatchError{Node: n.Name(), Index: i, Op: op, Err: err}
		}
	}
	return nil
}

func applyOne(ctx context.Context, n Node, op FileOp) error {
	switch op.Kind {
	case OpExpect:
		cur, _, err := n.ReadFile(ctx, op.Path)
		if errors.Is(err, fs.ErrNotExist) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, op.Data) {
			return fmt.Errorf("%w (now %s)", ErrFileChanged, digest(cur))
		}
		return nil
	case OpMkdirPrivate:
		res, err := n.Run(ctx, Command{Args: []string{"install", "-d", "-m", "0700", "-o", "root", "-g", "root", "--", path.Dir(op.Path), op.Path}, Sudo: true})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit %d: %s", res.ExitCode, res.StderrLine())
		}
		return err
	case OpCreate:
		if _, err := n.Stat(ctx, op.Path); !errors.Is(err, fs.ErrNotExist) {
			return err // there already (kept), or cannot tell
		}
		return n.WriteFileAtomic(ctx, op.Path, op.Data, op.Opts)
	case OpWrite:
		return n.WriteFileAtomic(ctx, op.Path, op.Data, op.Opts)
	}
	return fmt.Errorf("unknown file operation %d", op.Kind)
}

// digest names content in messages without showing it.
func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])[:12]
}

// batchScript runs a batch: its arguments are the operations, each a kind
// and a path and then the kind's fields; the data of the writes arrive on
// stdin one after the other, each exactly its size. A write is the atomic
// replace of WriteFileAtomic: a temporary file in the same directory (so
// the rename cannot cross file systems), the exact byte count checked (a
// cut connection must not install a truncated file), owner then mode
// (chown clears set-id bits), fsync of the file, rename, fsync of the
// directory. On any failure the temporary file is removed and the original
// is untouched. Symbolic links are refused rather than silently replaced by
// a regular file. Every operation done prints "ok I" (writes add the stat
// line of the result, so the caller can verify it); a failure prints
// "kmsctl-files: REASON" on stderr and exits 1 (3 for a changed file).
const batchScript = `set -u
fail() { printf 'kmsctl-files: %s\n' "$1" >&2; exit 1; }
empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
wr() {
  d=$(dirname -- "$p") && b=$(basename -- "$p") || fail "bad path $p"
  t=$(mktemp -- "$d/.$b.kmsctl-XXXXXX") || fail "cannot create a temporary file in $d"
  trap 'rm -f -- "$t"' EXIT
  head -c "$n" > "$t" || fail "writing $t failed"
  s=$(wc -c < "$t") || fail "cannot measure $t"
  [ "$s" -eq "$n" ] || fail "received $s of $n bytes; input cut off"
  chown -- "$u:$g" "$t" || fail "chown $u:$g failed"
  chmod -- "$m" "$t" || fail "chmod $m failed"
  sync -- "$t" 2>/dev/null || dd if=/dev/null of="$t" conv=notrunc,fsync status=none || fail "fsync of $t failed"
  mv -f -- "$t" "$p" || fail "rename to $p failed"
  trap - EXIT
  sync -- "$d" 2>/dev/null || sync || fail "fsync of $d failed"
  printf 'ok %s ' "$i"
  LC_ALL=C stat -c '` + statFormat + `' -- "$p" || fail "cannot stat $p"
}
trap 'exit 1' HUP INT TERM PIPE
i=0
while [ $# -ge 2 ]; do
  op=$1 p=$2; shift 2
  case $op in
  expect)
    if [ -e "$p" ]; then c=$(sha256sum < "$p") || fail "cannot read $p"; c=${c%% *}; else c=$empty; fi
    [ "$c" = "$1" ] || { printf 'kmsctl-files: %s changed (now sha256:%.12s)\n' "$p" "$c" >&2; exit 3; }
    shift; echo "ok $i" ;;
  mkdir)
    install -d -m 0700 -o root -g root -- "$(dirname -- "$p")" "$p" || fail "cannot create directory $p"
    echo "ok $i" ;;
  write|create)
    m=$1 u=$2 g=$3 n=$4; shift 4
    if [ "$op" = create ] && { [ -e "$p" ] || [ -L "$p" ]; }; then
      head -c "$n" > /dev/null || fail "reading the input failed"
      echo "ok $i kept"
    else
      [ -L "$p" ] && fail "$p is a symbolic link; refusing to replace it"
      wr
    fi ;;
  *) fail "unknown operation $op" ;;
  esac
  i=$((i+1))
done
`

// ApplyFiles runs the batch in one remote command (batchScript) and
// verifies every write by the stat line the script printed.
func (n *sshNode) ApplyFiles(ctx context.Context, ops []FileOp) error {
	if len(ops) == 0 {
		return nil
	}
	var args []string
	var stdin bytes.Buffer
	sizes := make([]int64, len(ops))
	for i, op := range ops {
		sizes[i] = int64(len(op.Data))
		a, err := batchArgs(op, sizes[i])
		if err != nil {
			return &BatchError{Node: n.t.Name, Index: i, Op: op, Err: err}
		}
		args = append(args, a...)
		if op.Kind == OpWrite || op.Kind == OpCreate {
			stdin.Write(op.Data)
		}
	}
	return n.runBatch(ctx, ops, sizes, args, &stdin)
}

// runBatch runs the script with the operations' words and their data on
// stdin, and says how far it got.
func (n *sshNode) runBatch(ctx context.Context, ops []FileOp, sizes []int64, words []string, stdin io.Reader) error {
	res, err := n.Run(ctx, Command{Args: append([]string{"sh", "-c", batchScript, "sh"}, words...), Stdin: stdin, Sudo: true})
	done, verr := verifyBatch(ops, sizes, res.Stdout)
	if verr != nil {
		return &BatchError{Node: n.t.Name, Index: done, Op: ops[done], Err: verr}
	}
	if err == nil && res.ExitCode == 0 && done == len(ops) {
		return nil
	}
	at := min(done, len(ops)-1)
	if err == nil {
		err = batchFailure(res)
	}
	return &BatchError{Node: n.t.Name, Index: at, Op: ops[at], Err: err}
}

// batchArgs turns one operation into the script's words; size is the
// length of its data on stdin.
func batchArgs(op FileOp, size int64) ([]string, error) {
	if op.Path == "" || strings.HasSuffix(op.Path, "/") {
		return nil, fmt.Errorf("%q: not a file path", op.Path)
	}
	switch op.Kind {
	case OpExpect:
		s := sha256.Sum256(op.Data)
		return []string{"expect", op.Path, hex.EncodeToString(s[:])}, nil
	case OpMkdirPrivate:
		return []string{"mkdir", op.Path}, nil
	case OpWrite, OpCreate:
		kind := "write"
		if op.Kind == OpCreate {
			kind = "create"
		}
		mode := strconv.FormatUint(uint64(octalFromMode(op.Opts.Mode)), 8)
		return []string{kind, op.Path, mode, strconv.Itoa(op.Opts.UID), strconv.Itoa(op.Opts.GID), strconv.FormatInt(size, 10)}, nil
	}
	return nil, fmt.Errorf("unknown file operation %d", op.Kind)
}

// verifyBatch counts the operations the script reported done and checks
// each write's stat line against what was asked.
func verifyBatch(ops []FileOp, sizes []int64, out []byte) (int, error) {
	done := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, " ", 3)
		if done >= len(ops) || len(f) < 2 || f[0] != "ok" || f[1] != strconv.Itoa(done) {
			continue
		}
		op := ops[done]
		if op.Kind == OpWrite || op.Kind == OpCreate {
			if len(f) < 3 {
				return done, errors.New("no stat line after the write")
			}
			if f[2] != "kept" {
				if err := verifyWrite(op.Path, f[2], sizes[done], op.Opts); err != nil {
					return done, err
				}
			}
		}
		done++
	}
	return done, nil
}

// batchFailure is the error of the operation the script stopped at: a
// changed file matches ErrFileChanged, a missing one fs.ErrNotExist, a
// refused one fs.ErrPermission.
func batchFailure(res Result) error {
	msg := trimmed(res.Stderr)
	switch {
	case res.ExitCode == 3:
		return fmt.Errorf("%w: %s", ErrFileChanged, strings.TrimPrefix(msg, "kmsctl-files: "))
	case strings.Contains(msg, "No such file or directory"):
		return fmt.Errorf("%w: %s", fs.ErrNotExist, msg)
	case strings.Contains(msg, "Permission denied"):
		return fmt.Errorf("%w: %s", fs.ErrPermission, msg)
	}
	return fmt.Errorf("exit status %d: %s", res.ExitCode, msg)
}
