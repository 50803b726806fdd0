package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// realSSHD starts OpenSSH's sshd on a random loopback port (root login by
// key only) and returns a node connected to it as root. It skips when sshd
// is missing or the test does not run as root.
func realSSHD(t *testing.T) (Node, *fixture) {
	t.Helper()
	f := newFixture(t)
	addr, kh := startSSHD(t, f, nil)
	tg := f.target("sshd", addr, kh)
	tg.User = "root"
	n, err := dial(t, testOpts(), tg)
	if err != nil {
		t.Fatalf("Dial real sshd: %v", err)
	}
	return n, f
}

// startSSHD runs sshd with a generated host key and f's client key
// authorised for every user. binds maps replacement files onto system paths
// (e.g. /etc/passwd): sshd then runs in a private mount namespace, so the
// host's files are never touched. It returns the address and known_hosts.
func startSSHD(t *testing.T, f *fixture, binds [][2]string) (string, string) {
	t.Helper()
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("OpenSSH server not installed (%s): %v", sshd, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd tests need root (sshd must switch users)")
	}
	host, hostPriv := newSigner(t)
	hostKeyFile := filepath.Join(f.dir, "ssh_host_ed25519_key")
	if err := os.Rename(writeKey(t, t.TempDir(), hostPriv, ""), hostKeyFile); err != nil {
		t.Fatal(err)
	}
	// Readable by every test user: sshd reads it with the user's privileges.
	pub := publicDir(t)
	auth := filepath.Join(pub, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(f.client.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg := filepath.Join(f.dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile none
AllowTcpForwarding yes
`, port, hostKeyFile, auth)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("cannot create /run/sshd: %v", err)
	}
	cmd := sshdCommand(t, sshd, cfg, binds)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr, f.knownHosts("known_hosts", khLine(addr, host.PublicKey()))
}

// sshdCommand runs sshd, inside a private mount namespace with binds applied
// when there are any.
func sshdCommand(t *testing.T, sshd, cfg string, binds [][2]string) *exec.Cmd {
	if len(binds) == 0 {
		return exec.Command(sshd, "-D", "-e", "-f", cfg)
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not available for a private mount namespace")
	}
	script := ""
	args := []string{"--mount", "--propagation", "private", "sh", "-c", "", "sh"}
	for i, b := range binds {
		script += fmt.Sprintf(`mount --bind -- "$%d" "$%d" && `, 2*i+1, 2*i+2)
		args = append(args, b[0], b[1])
	}
	args[5] = script + `exec ` + ShellQuote(sshd, "-D", "-e", "-f", cfg)
	return exec.Command("unshare", args...)
}

// publicDir is a temporary directory other users can read.
func publicDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's parent is 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRealSSHD(t *testing.T) {
	n, f := realSSHD(t)
	ctx := context.Background()
	t.Run("run", func(t *testing.T) {
		res := mustRun(t, n, Command{Args: []string{"sh", "-c", `printf '%s|' "$@"; cat; exit 7`, "sh", "a b", "it's", ""}, Stdin: strings.NewReader("in")})
		if string(res.Stdout) != "a b|it's||in" || res.ExitCode != 7 {
			t.Fatalf("got %q exit %d", res.Stdout, res.ExitCode)
		}
	})
	t.Run("stat and read", func(t *testing.T) {
		path := filepath.Join(f.dir, "conf file")
		if err := os.WriteFile(path, []byte("a: 1\nb: 2"), 0o640); err != nil {
			t.Fatal(err)
		}
		os.Chown(path, 0, 4321)
		data, fi, err := n.ReadFile(ctx, path)
		want := FileInfo{Path: path, Mode: 0o640, UID: 0, GID: 4321, Size: 9, Owner: "root", Group: "UNKNOWN"}
		if err != nil || string(data) != "a: 1\nb: 2" || fi != want {
			t.Fatalf("ReadFile = %q %+v %v, want %+v", data, fi, err, want)
		}
		if st, err := n.Stat(ctx, path); err != nil || st != want {
			t.Fatalf("Stat = %+v %v", st, err)
		}
		for _, op := range []func() error{
			func() error { _, err := n.Stat(ctx, path+".missing"); return err },
			func() error { _, _, err := n.ReadFile(ctx, path+".missing"); return err },
		} {
			if err := op(); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing file: err = %v, want fs.ErrNotExist", err)
			}
		}
	})
	t.Run("atomic write", func(t *testing.T) { testAtomicWrite(t, n, f.dir) })
	t.Run("atomic write cut off", func(t *testing.T) { testAtomicWriteCutOff(t, n, f.dir) })
	t.Run("dial tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				io.WriteString(c, "hello from the node side")
				c.Close()
			}
		}()
		c, err := n.DialTCP(ctx, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got, err := io.ReadAll(c); err != nil || string(got) != "hello from the node side" {
			t.Fatalf("read %q, %v", got, err)
		}
	})
}

// testAtomicWrite replaces a file held open by a reader: the reader keeps the
// old content (a rename, not an in-place write), owner and mode are as asked,
// and no temporary file is left.
func testAtomicWrite(t *testing.T, n Node, dir string) {
	ctx := context.Background()
	path := filepath.Join(dir, "it's atomic")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	opts := WriteOptions{Mode: 0o640, UID: 1234, GID: 5678}
	if err := n.WriteFileAtomic(ctx, path, []byte("new\ncontent"), opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(old); string(got) != "old" {
		t.Fatalf("open reader saw %q: file was rewritten in place", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if got, _ := os.ReadFile(path); string(got) != "new\ncontent" || st.Mode().Perm() != 0o640 || sys.Uid != 1234 || sys.Gid != 5678 {
		t.Fatalf("after write: %q mode %v owner %d:%d", got, st.Mode(), sys.Uid, sys.Gid)
	}
	assertNoTemp(t, dir)
	if err := n.WriteFileAtomic(ctx, filepath.Join(dir, "no-such-dir", "f"), nil, opts); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("write into a missing directory: %v, want fs.ErrNotExist", err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(path, link)
	if err := n.WriteFileAtomic(ctx, link, []byte("x"), opts); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("write through a symlink: %v, want a refusal", err)
	}
}

// testAtomicWriteCutOff streams half the data, checks the temporary file
// sits in the target's directory, then cuts the input: the write fails, the
// original is intact and the temporary file is gone.
func testAtomicWriteCutOff(t *testing.T, n Node, dir string) {
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("original"), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- n.(*sshNode).writeAtomic(context.Background(), path, pr, 10, WriteOptions{Mode: 0o600})
	}()
	pw.Write([]byte("half"))
	var temp string
	waitFor(t, func() bool {
		matches, _ := filepath.Glob(filepath.Join(dir, ".config.yaml.kmsctl-*"))
		if len(matches) == 1 {
			temp = matches[0]
		}
		return temp != ""
	})
	pw.CloseWithError(errors.New("connection cut"))
	err := <-done
	if err == nil {
		t.Fatal("a cut-off write succeeded")
	}
	t.Logf("cut-off write: %v", err)
	if got, _ := os.ReadFile(path); string(got) != "original" {
		t.Fatalf("original became %q", got)
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Fatalf("temporary file %s left behind", temp)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(dir, ".*kmsctl-*")); len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}
