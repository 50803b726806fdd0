package remote

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// lockedBuffer is a Debug writer safe for the dialer's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) runs() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), ": run: ")
}

// TestApplyFilesRealSSHD runs every batch case twice on a real sshd: as
// one remote command (the script) and one operation at a time
// (ApplyEach, the reference). Both must leave the same files and stop at
// the same operation with the same kind of error; the script must use one
// session for the whole batch.
func TestApplyFilesRealSSHD(t *testing.T) {
	f := newFixture(t)
	addr, kh := startSSHD(t, f, nil)
	tg := f.target("sshd", addr, kh)
	tg.User = "root"
	trace := &lockedBuffer{}
	opts := testOpts()
	opts.Debug = trace
	n, err := dial(t, opts, tg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range batchCases() {
		t.Run(c.name, func(t *testing.T) {
			var results [2]map[string]string
			var errs [2]error
			for i, apply := range []func(context.Context, Node, []FileOp) error{ApplyFiles, ApplyEach} {
				dir := t.TempDir()
				c.setup(t, dir)
				before := trace.runs()
				errs[i] = apply(context.Background(), n, c.ops(dir))
				if i == 0 {
					if got := trace.runs() - before; got != 1 {
						t.Errorf("the batch used %d remote commands, want 1", got)
					}
				}
				results[i] = snapshot(t, dir)
				c.check(t, dir, errs[i])
			}
			if !sameFiles(results[0], results[1]) {
				t.Errorf("script left %v\nreference left %v", results[0], results[1])
			}
			var b0, b1 *BatchError
			if (errs[0] == nil) != (errs[1] == nil) || errs[0] != nil && (!errors.As(errs[0], &b0) || !errors.As(errs[1], &b1) || b0.Index != b1.Index) {
				t.Errorf("script: %v\nreference: %v", errs[0], errs[1])
			}
		})
	}
}

type batchCase struct {
	name  string
	setup func(t *testing.T, dir string)
	ops   func(dir string) []FileOp
	check func(t *testing.T, dir string, err error)
}

func batchCases() []batchCase {
	root := WriteOptions{Mode: 0o600}
	conf := WriteOptions{Mode: 0o640, UID: 1234, GID: 5678}
	seed := func(name, data string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return []batchCase{
		{"a node step: check, backup dir, first copy, manifest, new file",
			seed("config.yaml", "old\x00binary\n"),
			func(d string) []FileOp {
				p := filepath.Join(d, "config.yaml")
				return []FileOp{
					{Kind: OpExpect, Path: p, Data: []byte("old\x00binary\n")},
					{Kind: OpMkdirPrivate, Path: filepath.Join(d, "backups", "run-1")},
					{Kind: OpCreate, Path: filepath.Join(d, "backups", "run-1", "config"), Data: []byte("old\x00binary\n"), Opts: root},
					{Kind: OpWrite, Path: filepath.Join(d, "backups", "run-1", "manifest.json"), Data: nil, Opts: root},
					{Kind: OpWrite, Path: p, Data: []byte("new"), Opts: conf},
				}
			},
			func(t *testing.T, d string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				wantFile(t, filepath.Join(d, "config.yaml"), "new", 0o640, 1234, 5678)
				wantFile(t, filepath.Join(d, "backups", "run-1", "config"), "old\x00binary\n", 0o600, 0, 0)
				wantFile(t, filepath.Join(d, "backups", "run-1", "manifest.json"), "", 0o600, 0, 0)
				if st, err := os.Stat(filepath.Join(d, "backups")); err != nil || st.Mode().Perm() != 0o700 {
					t.Errorf("backup parent: %v %v", st, err)
				}
				assertNoTemp(t, d)
			}},
		{"a first copy is kept, the batch goes on",
			seed("backup", "first"),
			func(d string) []FileOp {
				return []FileOp{
					{Kind: OpCreate, Path: filepath.Join(d, "backup"), Data: []byte("second"), Opts: root},
					{Kind: OpWrite, Path: filepath.Join(d, "after"), Data: []byte("x"), Opts: root},
				}
			},
			func(t *testing.T, d string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				wantFile(t, filepath.Join(d, "backup"), "first", 0o644, 0, 0)
				wantFile(t, filepath.Join(d, "after"), "x", 0o600, 0, 0)
			}},
		{"a changed file stops the batch before anything",
			seed("config.yaml", "edited by hand"),
			func(d string) []FileOp {
				return []FileOp{
					{Kind: OpExpect, Path: filepath.Join(d, "config.yaml"), Data: []byte("as read")},
					{Kind: OpWrite, Path: filepath.Join(d, "config.yaml"), Data: []byte("new"), Opts: root},
				}
			},
			func(t *testing.T, d string, err error) {
				var be *BatchError
				if !errors.As(err, &be) || be.Index != 0 || !errors.Is(err, ErrFileChanged) {
					t.Fatalf("err = %v, want ErrFileChanged at 0", err)
				}
				wantFile(t, filepath.Join(d, "config.yaml"), "edited by hand", 0o644, 0, 0)
			}},
		{"a missing file is expected empty",
			func(*testing.T, string) {},
			func(d string) []FileOp {
				return []FileOp{
					{Kind: OpExpect, Path: filepath.Join(d, "env")},
					{Kind: OpWrite, Path: filepath.Join(d, "env"), Data: []byte("A=1\n"), Opts: root},
				}
			},
			func(t *testing.T, d string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				wantFile(t, filepath.Join(d, "env"), "A=1\n", 0o600, 0, 0)
			}},
		{"a write that fails stops there, the earlier ones stay",
			func(*testing.T, string) {},
			func(d string) []FileOp {
				return []FileOp{
					{Kind: OpWrite, Path: filepath.Join(d, "one"), Data: []byte("1"), Opts: root},
					{Kind: OpWrite, Path: filepath.Join(d, "no-such-dir", "two"), Data: []byte("22"), Opts: root},
					{Kind: OpWrite, Path: filepath.Join(d, "three"), Data: []byte("333"), Opts: root},
				}
			},
			func(t *testing.T, d string, err error) {
				var be *BatchError
				if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want fs.ErrNotExist at 1", err)
				}
				wantFile(t, filepath.Join(d, "one"), "1", 0o600, 0, 0)
				if _, err := os.Stat(filepath.Join(d, "three")); !os.IsNotExist(err) {
					t.Errorf("the operation after the failure ran: %v", err)
				}
			}},
		{"a symbolic link is never replaced",
			func(t *testing.T, d string) {
				seed("target", "kept")(t, d)
				if err := os.Symlink(filepath.Join(d, "target"), filepath.Join(d, "link")); err != nil {
					t.Fatal(err)
				}
			},
			func(d string) []FileOp {
				return []FileOp{
					{Kind: OpExpect, Path: filepath.Join(d, "link"), Data: []byte("kept")},
					{Kind: OpWrite, Path: filepath.Join(d, "link"), Data: []byte("new"), Opts: root},
				}
			},
			func(t *testing.T, d string, err error) {
				var be *BatchError
				if !errors.As(err, &be) || be.Index != 1 || !strings.Contains(err.Error(), "symbolic link") {
					t.Fatalf("err = %v, want a refusal at 1", err)
				}
				wantFile(t, filepath.Join(d, "target"), "kept", 0o644, 0, 0)
			}},
	}
}

func wantFile(t *testing.T, p, data string, mode os.FileMode, uid, gid uint32) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	sys := st.Sys().(*syscall.Stat_t)
	if string(got) != data || st.Mode().Perm() != mode || sys.Uid != uid || sys.Gid != gid {
		t.Errorf("%s: %q mode %v owner %d:%d, want %q %v %d:%d", p, got, st.Mode().Perm(), sys.Uid, sys.Gid, data, mode, uid, gid)
	}
}

// snapshot maps every path under dir (relative) to its mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, _ := os.ReadFile(p)
		if info.IsDir() {
			data = nil
		}
		m[rel] = info.Mode().String() + " " + string(data)
		return nil
	})
	return m
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
