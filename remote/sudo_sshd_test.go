package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Test users, only visible inside sshd's private mount namespace.
const (
	sudoUserNoPW = "kmsctl-t-nopw" // NOPASSWD sudo, like the lab's kmsadmin
	sudoUserPW   = "kmsctl-t-pw"   // sudo asks a password, like the lab's kmspw
	sudoPassword = "correct horse battery"
)

// sudoSSHD starts a real sshd whose /etc/passwd, /etc/shadow, /etc/group and
// /etc/sudoers are test copies bind-mounted in a private mount namespace: the
// real sudo is exercised without adding users to this machine.
func sudoSSHD(t *testing.T, f *fixture) (string, string) {
	t.Helper()
	for _, tool := range []string{"sudo", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	hash, err := exec.Command("openssl", "passwd", "-6", sudoPassword).Output()
	if err != nil {
		t.Skipf("openssl passwd: %v", err)
	}
	home := publicDir(t)
	etc := t.TempDir()
	files := map[string]string{
		"passwd": fmt.Sprintf("%s:x:64101:64101::%s:/bin/sh\n%s:x:64102:64102::%s:/bin/sh\n", sudoUserNoPW, home, sudoUserPW, home),
		"group":  fmt.Sprintf("%s:x:64101:\n%s:x:64102:\n", sudoUserNoPW, sudoUserPW),
		"shadow": fmt.Sprintf("%s:*:20000:0:99999:7:::\n%s:%s:20000:0:99999:7:::\n", sudoUserNoPW, sudoUserPW, strings.TrimSpace(string(hash))),
	}
	var binds [][2]string
	for name, extra := range files {
		orig, err := os.ReadFile("/etc/" + name)
		if err != nil {
			t.Skipf("reading /etc/%s: %v", name, err)
		}
		binds = append(binds, [2]string{writeEtc(t, etc, name, string(orig)+extra, 0o644), "/etc/" + name})
	}
	sudoers := "Defaults env_reset\nDefaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\nroot ALL=(ALL:ALL) ALL\n" +
		sudoUserNoPW + " ALL=(ALL) NOPASSWD: ALL\n" + sudoUserPW + " ALL=(ALL) ALL\n"
	binds = append(binds, [2]string{writeEtc(t, etc, "sudoers", sudoers, 0o440), "/etc/sudoers"})
	return startSSHD(t, f, binds)
}

func writeEtc(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRealSudo(t *testing.T) {
	f := newFixture(t)
	addr, kh := sudoSSHD(t, f)
	tests := []struct {
		name      string
		user      string
		password  string
		wantErr   bool
		wantAsked int
	}{
		{name: "passwordless sudo", user: sudoUserNoPW},
		{name: "sudo with password", user: sudoUserPW, password: sudoPassword, wantAsked: 1},
		{name: "wrong password", user: sudoUserPW, password: "wrong", wantErr: true, wantAsked: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			opts := testOpts()
			opts.SudoPassword = func() ([]byte, error) { asked++; return []byte(tc.password), nil }
			tg := f.target("sshd", addr, kh)
			tg.User, tg.Sudo = tc.user, true
			n, err := dial(t, opts, tg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			res, err := n.Run(ctx, Command{Args: []string{"sh", "-c", "id -u; cat"}, Stdin: strings.NewReader("stdin ok"), Sudo: true})
			if tc.wantErr {
				var se *SudoError
				if !errors.As(err, &se) || strings.Contains(err.Error(), tc.password) {
					t.Fatalf("err = %v, want a *SudoError without the password", err)
				}
				return
			}
			if err != nil || string(res.Stdout) != "0\nstdin ok" {
				t.Fatalf("sudo Run = %q %q, %v", res.Stdout, res.Stderr, err)
			}
			if res := mustRun(t, n, Command{Args: []string{"id", "-u"}}); string(res.Stdout) == "0\n" {
				t.Fatal("a command without Sudo ran as root")
			}
			testSudoFiles(t, n)
			if asked != tc.wantAsked {
				t.Fatalf("password asked %d times, want %d", asked, tc.wantAsked)
			}
		})
	}
}

// testSudoFiles writes and reads a root-only file through sudo.
func testSudoFiles(t *testing.T, n Node) {
	t.Helper()
	ctx := context.Background()
	dir := publicDir(t)
	path := filepath.Join(dir, "minkms.env")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteFileAtomic(ctx, path, []byte("MINIO_KMS_HSM_KEY=x\n"), WriteOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	data, fi, err := n.ReadFile(ctx, path)
	if err != nil || string(data) != "MINIO_KMS_HSM_KEY=x\n" || fi.UID != 0 || fi.Mode != 0o600 {
		t.Fatalf("ReadFile through sudo = %q %+v %v", data, fi, err)
	}
	assertNoTemp(t, dir)
}
