package remotetest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/remote"
)

func TestRunScripts(t *testing.T) {
	n := NewNode("kms-1")
	n.Respond([]string{"systemctl"}, remote.Result{Stdout: []byte("generic")})
	n.Respond([]string{"systemctl", "is-active"}, remote.Result{Stdout: []byte("active\n")})
	n.Handle([]string{"cat"}, func(cmd remote.Command, stdin []byte) (remote.Result, error) {
		return remote.Result{Stdout: stdin}, nil
	})
	tests := []struct {
		args   []string
		stdin  string
		stdout string
		code   int
	}{
		{args: []string{"systemctl", "is-active", "minkms"}, stdout: "active\n"},
		{args: []string{"systemctl", "show", "minkms"}, stdout: "generic"},
		{args: []string{"cat"}, stdin: "abc", stdout: "abc"},
		{args: []string{"journalctl"}, code: 127},
	}
	for _, tc := range tests {
		cmd := remote.Command{Args: tc.args}
		if tc.stdin != "" {
			cmd.Stdin = strings.NewReader(tc.stdin)
		}
		res, err := n.Run(context.Background(), cmd)
		if err != nil || string(res.Stdout) != tc.stdout || res.ExitCode != tc.code {
			t.Errorf("Run(%q) = %q exit %d, %v; want %q exit %d", tc.args, res.Stdout, res.ExitCode, err, tc.stdout, tc.code)
		}
	}
	want := []string{"systemctl is-active minkms", "systemctl show minkms", "cat", "journalctl"}
	if got := n.Commands(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Commands() = %q, want %q", got, want)
	}
	if c := n.Calls()[2]; string(c.Stdin) != "abc" {
		t.Fatalf("recorded stdin %q", c.Stdin)
	}
}

func TestLatestScriptWins(t *testing.T) {
	n := NewNode("kms-1")
	n.Respond([]string{"x"}, remote.Result{ExitCode: 1})
	n.Respond([]string{"x"}, remote.Result{ExitCode: 2})
	if res, _ := n.Run(context.Background(), remote.Command{Args: []string{"x"}}); res.ExitCode != 2 {
		t.Fatalf("exit %d, want the later script's 2", res.ExitCode)
	}
}

func TestFiles(t *testing.T) {
	ctx := context.Background()
	n := NewNode("kms-1")
	n.SetGroup(999, "minkms-user")
	n.SetFile("/etc/minkms/config.yaml", File{Data: []byte("version: v1\n"), Mode: 0o640, GID: 999})
	data, fi, err := n.ReadFile(ctx, "/etc/minkms/config.yaml")
	want := remote.FileInfo{Path: "/etc/minkms/config.yaml", Mode: 0o640, GID: 999, Size: 12, Owner: "root", Group: "minkms-user"}
	if err != nil || string(data) != "version: v1\n" || fi != want {
		t.Fatalf("ReadFile = %q %+v %v", data, fi, err)
	}
	data[0] = 'X' // callers get copies
	if f, _ := n.File("/etc/minkms/config.yaml"); f.Data[0] != 'v' {
		t.Fatal("ReadFile returned the node's own buffer")
	}
	if err := n.WriteFileAtomic(ctx, "/etc/default/minkms", []byte("A=1\n"), remote.WriteOptions{Mode: 0o600, UID: 5, GID: 6}); err != nil {
		t.Fatal(err)
	}
	st, err := n.Stat(ctx, "/etc/default/minkms")
	if err != nil || st.Mode != 0o600 || st.UID != 5 || st.GID != 6 || st.Owner != "5" || st.Size != 4 {
		t.Fatalf("Stat after write = %+v, %v", st, err)
	}
	if _, err := n.Stat(ctx, "/nope"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "kms-1") {
		t.Fatalf("Stat missing: %v", err)
	}
	if c := n.Calls()[1]; c.Op != OpWriteFileAtomic || c.Path != "/etc/default/minkms" || string(c.Data) != "A=1\n" || c.Write.Mode != 0o600 {
		t.Fatalf("recorded write %+v", c)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	n := NewNode("kms-1")
	n.SetFile("/a", File{})
	n.Respond(nil, remote.Result{})
	n.Fail(Fault{Op: OpRun, Match: "systemctl restart", Err: boom, Times: 1})
	n.Fail(Fault{Op: OpStat, Match: "/a", Err: boom})
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"run matching fails once", func() error {
			_, err := n.Run(ctx, remote.Command{Args: []string{"systemctl", "restart", "minkms"}})
			return err
		}, boom},
		{"then succeeds", func() error {
			_, err := n.Run(ctx, remote.Command{Args: []string{"systemctl", "restart", "minkms"}})
			return err
		}, nil},
		{"other command unaffected", func() error { _, err := n.Run(ctx, remote.Command{Args: []string{"systemctl", "stop"}}); return err }, nil},
		{"stat fails every time", func() error { _, err := n.Stat(ctx, "/a"); return err }, boom},
		{"stat again", func() error { _, err := n.Stat(ctx, "/a"); return err }, boom},
		{"read unaffected", func() error { _, _, err := n.ReadFile(ctx, "/a"); return err }, nil},
	}
	for _, tc := range tests {
		if err := tc.call(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestBlockingFaultHonoursContext(t *testing.T) {
	n := NewNode("kms-1")
	n.Fail(Fault{Op: OpReadFile, Block: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := n.ReadFile(ctx, "/x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

func TestDialTCP(t *testing.T) {
	n := NewNode("kms-1")
	n.HandleTCP("127.0.0.1:7373", func(c net.Conn) {
		io.WriteString(c, "hello")
		c.Close()
	})
	c, err := n.DialTCP(context.Background(), "127.0.0.1:7373")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(c); string(got) != "hello" {
		t.Fatalf("read %q", got)
	}
	if _, err := n.DialTCP(context.Background(), "127.0.0.1:1"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("unhandled address: %v, want ECONNREFUSED", err)
	}
}

func TestForwardTCPToHTTPServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "live")
	}))
	real := srv.Listener.Addr().String()
	// ForwardTCP maps the node's address to the server's; ForwardAllTCP
	// dials the server's address itself.
	one, all := NewNode("kms-1"), NewNode("kms-2")
	one.ForwardTCP("127.0.0.1:7373", real)
	all.ForwardAllTCP()
	for n, url := range map[*Node]string{one: "http://127.0.0.1:7373/v1/health/live", all: "http://" + real + "/v1/health/live"} {
		client := &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return n.DialTCP(ctx, addr) },
		}}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if body, _ := io.ReadAll(resp.Body); string(body) != "live" {
			t.Fatalf("%s: body %q", n.Name(), body)
		}
	}
	srv.Close()
	if _, err := all.DialTCP(context.Background(), real); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "node kms-2") {
		t.Fatalf("closed address: %v, want a refusal naming the node", err)
	}
}

func TestDialerAndClose(t *testing.T) {
	ctx := context.Background()
	n1, n2 := NewNode("kms-1"), NewNode("kms-2")
	d := NewDialer(n1, n2)
	down := errors.New("no route")
	d.Fail(Fault{Match: "kms-2", Err: down, Times: 1})
	got, err := d.Dial(ctx, remote.Target{Name: "kms-1", Address: "10.213.0.11"})
	if err != nil || got != n1 {
		t.Fatalf("Dial kms-1 = %v, %v", got, err)
	}
	var de *remote.DialError
	if _, err := d.Dial(ctx, remote.Target{Name: "kms-2"}); !errors.As(err, &de) || !errors.Is(err, down) {
		t.Fatalf("injected dial failure: %v", err)
	}
	if _, err := d.Dial(ctx, remote.Target{Name: "kms-2"}); err != nil {
		t.Fatalf("second dial of kms-2: %v", err)
	}
	if _, err := d.Dial(ctx, remote.Target{Name: "kms-9"}); !errors.As(err, &de) {
		t.Fatalf("unknown node: %v", err)
	}
	if len(d.Targets()) != 4 || d.Targets()[0].Address != "10.213.0.11" {
		t.Fatalf("Targets() = %+v", d.Targets())
	}
	n1.Close()
	if _, err := n1.Run(ctx, remote.Command{Args: []string{"true"}}); !errors.Is(err, net.ErrClosed) || !n1.Closed() {
		t.Fatalf("Run after Close: %v", err)
	}
}

func TestRefuseSudo(t *testing.T) {
	ctx := context.Background()
	n := NewNode("kms-1")
	n.SetFile("/etc/default/minkms", File{Data: []byte("A=1\n")})
	n.Respond([]string{"true"}, remote.Result{})
	n.RefuseSudo("sudo: a password is required")
	if res, err := n.Run(ctx, remote.Command{Args: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("Run without sudo = %+v, %v; want it to run", res, err)
	}
	res, err := n.Run(ctx, remote.Command{Args: []string{"true"}, Sudo: true})
	if err != nil || res.ExitCode != 1 || string(res.Stderr) != "sudo: a password is required" {
		t.Fatalf("Run with sudo = %+v, %v; want exit 1 and sudo's refusal", res, err)
	}
	if _, _, err := n.ReadFile(ctx, "/etc/default/minkms"); err == nil || !strings.Contains(err.Error(), "node kms-1: read /etc/default/minkms: sudo: a password is required") {
		t.Fatalf("ReadFile: %v", err)
	}
	if err := n.WriteFileAtomic(ctx, "/etc/default/minkms", nil, remote.WriteOptions{}); err == nil {
		t.Fatal("WriteFileAtomic succeeded without sudo")
	}
	if f, _ := n.File("/etc/default/minkms"); string(f.Data) != "A=1\n" {
		t.Fatalf("a refused write changed the file: %q", f.Data)
	}
}

func TestCatchAllTCPAndConnNames(t *testing.T) {
	n := NewNode("kms-2")
	n.HandleTCP("", func(c net.Conn) { io.WriteString(c, "any"); c.Close() })
	n.HandleTCP("10.0.0.1:8200", func(c net.Conn) { io.WriteString(c, "vault"); c.Close() })
	for addr, want := range map[string]string{"127.0.0.1:7373": "any", "10.0.0.1:8200": "vault"} {
		c, err := n.DialTCP(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		tc, ok := c.(*Conn)
		if !ok || tc.Node != "kms-2" || tc.Addr != addr {
			t.Errorf("DialTCP(%s) = %#v, want a *Conn naming kms-2 and the address", addr, c)
		}
		if got, _ := io.ReadAll(c); string(got) != want {
			t.Errorf("DialTCP(%s) reached %q, want %q", addr, got, want)
		}
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if got := <-c.After(5 * time.Minute); !got.Equal(start.Add(5 * time.Minute)) {
		t.Fatalf("After fired with %s", got)
	}
	c.After(-time.Second) // never back in time
	if !c.Now().Equal(start.Add(5*time.Minute)) || c.Waited() != 5*time.Minute {
		t.Fatalf("Now %s, Waited %s", c.Now(), c.Waited())
	}
}

func TestHandleLineAndContext(t *testing.T) {
	n := NewNode("kms-1")
	n.Respond([]string{"sh", "-c"}, remote.Result{Stdout: []byte("any script")})
	n.HandleLine("sh -c # check", func(_ context.Context, cmd remote.Command, _ []byte) (remote.Result, error) {
		return remote.Result{Stdout: []byte("check " + cmd.Args[3])}, nil
	})
	n.HandleContext([]string{"hang"}, func(ctx context.Context, _ remote.Command, _ []byte) (remote.Result, error) {
		<-ctx.Done()
		return remote.Result{}, ctx.Err()
	})
	for script, want := range map[string]string{"# check\necho": "check arg", "echo # check": "any script"} {
		res, err := n.Run(context.Background(), remote.Command{Args: []string{"sh", "-c", script, "arg"}})
		if err != nil || string(res.Stdout) != want {
			t.Errorf("Run(sh -c %q) = %q, %v; want %q", script, res.Stdout, err, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := n.Run(ctx, remote.Command{Args: []string{"hang"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a context handler did not get the Run's context: %v", err)
	}
}

func TestSymbolicLinks(t *testing.T) {
	ctx := context.Background()
	n := NewNode("kms-1")
	n.SetFile("/srv/minkms.yaml", File{Data: []byte("version: v1\n"), Mode: 0o640})
	n.SetLink("/etc/minkms/config.yaml", "../../srv/minkms.yaml")
	data, fi, err := n.ReadFile(ctx, "/etc/minkms/config.yaml")
	if err != nil || string(data) != "version: v1\n" || fi.Mode != 0o777 || fi.Size != int64(len("../../srv/minkms.yaml")) {
		t.Fatalf("ReadFile through the link = %q %+v %v; want the target's content, the link's metadata", data, fi, err)
	}
	if target, ok := n.Link("/etc/minkms/config.yaml"); !ok || target != "../../srv/minkms.yaml" {
		t.Fatalf("Link = %q %v", target, ok)
	}
	err = n.WriteFileAtomic(ctx, "/etc/minkms/config.yaml", []byte("x"), remote.WriteOptions{Mode: 0o640})
	if err == nil || !strings.Contains(err.Error(), "node kms-1: write /etc/minkms/config.yaml: exit status 1: kmsctl-write: /etc/minkms/config.yaml is a symbolic link") {
		t.Fatalf("write through a link: %v", err)
	}
	if f, _ := n.File("/srv/minkms.yaml"); string(f.Data) != "version: v1\n" {
		t.Fatalf("a refused write changed the target: %q", f.Data)
	}
	n.SetLink("/a", "/b")
	n.SetLink("/b", "/a")
	if _, _, err := n.ReadFile(ctx, "/a"); !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("a link loop: %v, want ELOOP", err)
	}
	if got := n.Paths(); !reflect.DeepEqual(got, []string{"/a", "/b", "/etc/minkms/config.yaml", "/srv/minkms.yaml"}) {
		t.Fatalf("Paths() = %q, want links listed too", got)
	}
	n.SetFile("/a", File{Data: []byte("plain")})
	if _, ok := n.Link("/a"); ok {
		t.Fatal("SetFile left the link in place")
	}
}

func TestMounts(t *testing.T) {
	ctx := context.Background()
	n := NewNode("kms-1")
	n.SetFile("/etc/minkms/config.yaml", File{Data: []byte("old")})
	n.Mount("/etc", Mount{ReadOnly: true, Free: DefaultFree})
	n.Mount("/var/lib", Mount{Free: 4})
	tests := []struct {
		path, data, want string
	}{
		{"/etc/minkms/config.yaml", "new", "Read-only file system"},
		{"/var/lib/minkms/big", "12345", "No space left on device"},
		{"/var/lib/minkms/small", "1234", ""},
		{"/etcetera/x", "anything", ""}, // not under /etc
	}
	for _, tc := range tests {
		err := n.WriteFileAtomic(ctx, tc.path, []byte(tc.data), remote.WriteOptions{})
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), "node kms-1: write "+tc.path+": exit status 1: ") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("write %s: %v, want %q", tc.path, err, tc.want)
		}
	}
	if f, _ := n.File("/etc/minkms/config.yaml"); string(f.Data) != "old" {
		t.Fatalf("a write to a read-only mount changed the file: %q", f.Data)
	}
	if dir, m := n.MountOf("/var/lib/minkms/x"); dir != "/var/lib" || m.Free != 4 {
		t.Fatalf("MountOf = %s %+v", dir, m)
	}
	if dir, m := n.MountOf("/tmp/x"); dir != "/" || m.Free != DefaultFree || m.ReadOnly {
		t.Fatalf("MountOf(/tmp/x) = %s %+v, want the default root", dir, m)
	}
}

func TestOnWrite(t *testing.T) {
	ctx := context.Background()
	n := NewNode("kms-1")
	var seen []string
	n.OnWrite(func(path string, data []byte, opts remote.WriteOptions) error {
		if _, ok := n.File(path); ok { // the hook may use the node
			return errors.New("exists already")
		}
		seen = append(seen, path+"="+string(data))
		return nil
	})
	if err := n.WriteFileAtomic(ctx, "/a", []byte("1"), remote.WriteOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	err := n.WriteFileAtomic(ctx, "/a", []byte("2"), remote.WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "node kms-1: write /a: exists already") {
		t.Fatalf("refused write: %v", err)
	}
	if f, _ := n.File("/a"); string(f.Data) != "1" || !reflect.DeepEqual(seen, []string{"/a=1"}) {
		t.Fatalf("file %q, hook saw %q", f.Data, seen)
	}
	n.Mount("/", Mount{ReadOnly: true})
	if err := n.WriteFileAtomic(ctx, "/b", []byte("3"), remote.WriteOptions{}); err == nil || len(seen) != 1 {
		t.Fatalf("a write the node refuses reached the hook: %v, %q", err, seen)
	}
}
