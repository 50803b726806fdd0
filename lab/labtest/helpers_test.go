package labtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// lab is the running lab a test works on.
type lab struct {
	t     *testing.T
	dir   labdir.Layout
	state *labdir.State
	env   map[string]string
}

// needLab skips the test unless KMSCTL_LAB_DIR names a running lab.
func needLab(t *testing.T) *lab {
	t.Helper()
	dir := os.Getenv("KMSCTL_LAB_DIR")
	if dir == "" {
		t.Skip("KMSCTL_LAB_DIR is not set: start a lab (lab/lab up) to run the lab tests")
	}
	l := labdir.Layout{Root: dir}
	st, err := l.LoadState()
	if err != nil {
		t.Skipf("no running lab in %s: %v", dir, err)
	}
	env, err := readEnv(l.EnvFile())
	if err != nil {
		t.Fatalf("read env.sh: %v", err)
	}
	return &lab{t: t, dir: l, state: st, env: env}
}

// readEnv parses env.sh's `export K='v'` lines.
func readEnv(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		env[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
	}
	return env, nil
}

// last is the node destructive tests use: with 3 or more nodes the others keep quorum.
func (l *lab) last() string { return l.state.Nodes[len(l.state.Nodes)-1].Name }

func (l *lab) addr(name string) string {
	for _, n := range l.state.Nodes {
		if n.Name == name {
			return n.Address
		}
	}
	l.t.Fatalf("no node %s", name)
	return ""
}

// labCmd runs the lab wrapper (../lab) with --dir.
func (l *lab) labCmd(stdin []byte, args ...string) (string, error) {
	verb := args[0]
	full := append([]string{verb, "--dir", l.dir.Root}, args[1:]...)
	cmd := exec.Command(filepath.Join("..", "lab"), full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), err
}

// exec runs argv in a node through `lab exec` and returns combined output.
func (l *lab) exec(node string, argv ...string) (string, error) {
	return l.labCmd(nil, append([]string{"exec", node, "--"}, argv...)...)
}

// mustExec is exec that fails the test on error.
func (l *lab) mustExec(node string, argv ...string) string {
	l.t.Helper()
	out, err := l.exec(node, argv...)
	if err != nil {
		l.t.Fatalf("%s: %v: %v\n%s", node, argv, err, out)
	}
	return out
}

// writeNodeFile writes content to path in a node with mode and owner.
func (l *lab) writeNodeFile(node, path, mode, owner, group string, content []byte) {
	l.t.Helper()
	out, err := l.labCmd(content, "exec", node, "--", "install", "-m", mode, "-o", owner, "-g", group, "/dev/stdin", path)
	if err != nil {
		l.t.Fatalf("write %s on %s: %v\n%s", path, node, err, out)
	}
}

// ssh runs a command over real SSH with the lab's ssh_config (strict host keys).
func (l *lab) ssh(user, node string, stdin []byte, command string) (string, error) {
	cmd := exec.Command("ssh", "-F", l.dir.SSHConfig(), "-o", "StrictHostKeyChecking=yes", "-l", user, node, command)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), err
}

// unit returns ActiveState, SubState and NRestarts of minkms on a node.
func (l *lab) unit(node string) (active, sub, restarts string) {
	out, _ := l.exec(node, "systemctl", "show", "minkms", "-p", "ActiveState,SubState,NRestarts")
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		kv[k] = v
	}
	return kv["ActiveState"], kv["SubState"], kv["NRestarts"]
}

// journal returns minkms's journal on a node since the given time (zero: all).
func (l *lab) journal(node string, since time.Time) string {
	args := []string{"journalctl", "-u", "minkms", "--no-pager", "-o", "cat"}
	if !since.IsZero() {
		args = append(args, "--since", since.Format("2006-01-02 15:04:05"))
	}
	out, _ := l.exec(node, args...)
	return out
}

// eventually polls cond until it holds or the timeout ends.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// readyCode returns the HTTP status of a node's /v1/health/ready (0: no answer).
func (l *lab) readyCode(node string) int {
	pem, err := os.ReadFile(l.dir.CACert())
	if err != nil {
		l.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return l.readyWith(node, &tls.Config{RootCAs: pool})
}

// readyWith is readyCode with the given client TLS settings.
func (l *lab) readyWith(node string, conf *tls.Config) int {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://%s:7373/v1/health/ready", l.addr(node)), nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// guardNode saves files of a node and registers a cleanup that stops minkms,
// restores them (content, mode, owner), clears the fault knobs and starts
// minkms again, waiting until the node is ready: each test leaves the lab as
// it found it.
func (l *lab) guardNode(node string, paths ...string) {
	l.t.Helper()
	type saved struct{ path, mode, owner, group, content string }
	var files []saved
	for _, p := range paths {
		st := strings.Fields(l.mustExec(node, "stat", "-c", "%a %U %G", p))
		files = append(files, saved{p, st[0], st[1], st[2], l.mustExec(node, "cat", p)})
	}
	l.t.Cleanup(func() {
		_, _ = l.labCmd(nil, "heal", node)
		_, _ = l.exec(node, "systemctl", "kill", "-s", "KILL", "minkms")
		_, _ = l.exec(node, "systemctl", "stop", "minkms")
		for _, f := range files {
			l.writeNodeFile(node, f.path, f.mode, f.owner, f.group, []byte(f.content))
		}
		_, _ = l.exec(node, "systemctl", "reset-failed", "minkms")
		l.mustExec(node, "systemctl", "start", "minkms")
		eventually(l.t, 30*time.Second, node+" ready again", func() bool { return l.readyCode(node) == http.StatusOK })
	})
}

// restart restarts minkms on a node and returns the time just before, for journal reads.
func (l *lab) restart(node string) time.Time {
	l.t.Helper()
	since := time.Now().Add(-time.Second)
	_, _ = l.exec(node, "systemctl", "reset-failed", "minkms")
	l.mustExec(node, "systemctl", "restart", "minkms")
	return since
}

// sshWith is ssh with extra options placed before the lab's ssh_config values.
func (l *lab) sshWith(opts []string, user, node, command string) (string, error) {
	args := append([]string{"-F", l.dir.SSHConfig(), "-o", "LogLevel=ERROR"}, opts...)
	args = append(args, "-l", user, node, command)
	cmd := exec.Command("ssh", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
