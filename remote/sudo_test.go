package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSudo understands the options kmsctl uses, like sudo: -n fails when a
// password is set, -S reads one password line from stdin (byte by byte, so
// the rest stays for the command). It logs its argv to $FAKE_SUDO_LOG.
const fakeSudo = `#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_SUDO_LOG"
n= s=
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=1 ;; -S) s=1 ;; -k) ;; -p) shift ;; --) shift; break ;;
    *) echo "fake sudo: unexpected option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$FAKE_SUDO_PASSWORD" ] && exec "$@"
if [ -n "$s" ]; then
  IFS= read -r pw || pw=
  [ "$pw" = "$FAKE_SUDO_PASSWORD" ] && exec "$@"
  echo "Sorry, try again." >&2; echo "sudo: 1 incorrect password attempt" >&2; exit 1
fi
echo "sudo: a password is required" >&2; exit 1
`

// sudoServer starts a server whose PATH has the fake sudo.
func sudoServer(t *testing.T, f *fixture, password string) (*testServer, string, string) {
	t.Helper()
	bin := filepath.Join(f.dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	srv, host := f.server()
	log := filepath.Join(f.dir, "sudo.log")
	srv.env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "FAKE_SUDO_PASSWORD=" + password, "FAKE_SUDO_LOG=" + log}
	return srv, f.knownHosts("kh", khLine(srv.addr, host.PublicKey())), log
}

func TestSudo(t *testing.T) {
	tests := []struct {
		name      string
		password  string // the node's
		given     string // what the source returns; "-" for no source
		wantErr   bool
		wantAsked int
		wantArgv  string // sudo's argv for the real command
	}{
		{name: "passwordless", wantArgv: "-n -- cat"},
		{name: "password", password: "pw 1", given: "pw 1", wantAsked: 1, wantArgv: "-S -k -p  -- cat"},
		{name: "wrong password", password: "pw 1", given: "nope", wantErr: true, wantAsked: 1},
		{name: "no password source", password: "pw 1", given: "-", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			srv, kh, log := sudoServer(t, f, tc.password)
			asked := 0
			opts := testOpts()
			if tc.given != "-" {
				opts.SudoPassword = func() ([]byte, error) { asked++; return []byte(tc.given), nil }
			}
			d := NewSSHDialer(opts)
			tg := f.target("kms-1", srv.addr, kh)
			tg.Sudo = true
			for range 2 { // two nodes (same server): one password prompt
				n, err := d.Dial(context.Background(), tg)
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				res, err := n.Run(context.Background(), Command{Args: []string{"cat"}, Stdin: strings.NewReader("payload\n"), Sudo: true})
				var se *SudoError
				if tc.wantErr {
					if !errors.As(err, &se) || strings.Contains(err.Error(), tc.password) {
						t.Fatalf("err = %v, want a *SudoError without the password", err)
					}
					continue
				}
				if err != nil || string(res.Stdout) != "payload\n" {
					t.Fatalf("Run = %q, %v; want the command's own stdin intact", res.Stdout, err)
				}
			}
			if asked != tc.wantAsked {
				t.Errorf("password asked %d times, want %d", asked, tc.wantAsked)
			}
			logged, _ := os.ReadFile(log)
			if tc.wantArgv != "" && !strings.Contains(string(logged), tc.wantArgv+"\n") {
				t.Errorf("sudo argv log %q lacks %q", logged, tc.wantArgv)
			}
			execs, _, _, _ := srv.stats()
			if tc.password != "" && strings.Contains(string(logged)+strings.Join(execs, "\n"), tc.password) {
				t.Fatal("the password appeared in a command line")
			}
		})
	}
}

func TestSudoNotUsedForRoot(t *testing.T) {
	f := newFixture(t)
	srv, kh, log := sudoServer(t, f, "pw")
	tg := f.target("kms-1", srv.addr, kh)
	tg.User, tg.Sudo = "root", true
	n, err := dial(t, testOpts(), tg)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, n, Command{Args: []string{"true"}, Sudo: true})
	if _, err := os.Stat(log); !os.IsNotExist(err) {
		t.Fatal("sudo was run for root")
	}
}

// With a password sudo, the data of an atomic write follow the password line
// on stdin: the file must hold the data only, and ReadFile must see them.
func TestSudoPasswordWriteAndRead(t *testing.T) {
	f := newFixture(t)
	srv, kh, _ := sudoServer(t, f, "pw")
	opts := testOpts()
	opts.SudoPassword = func() ([]byte, error) { return []byte("pw"), nil }
	tg := f.target("kms-1", srv.addr, kh)
	tg.Sudo = true
	n, err := dial(t, opts, tg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "secret.env")
	ctx := context.Background()
	wo := WriteOptions{Mode: 0o600, UID: os.Getuid(), GID: os.Getgid()}
	if err := n.WriteFileAtomic(ctx, path, []byte("KEY=value\n"), wo); err != nil {
		t.Fatal(err)
	}
	data, fi, err := n.ReadFile(ctx, path)
	if err != nil || string(data) != "KEY=value\n" || fi.Mode != 0o600 {
		t.Fatalf("ReadFile = %q %+v %v", data, fi, err)
	}
}
