// Package e2e drives the kmsctl binary against a running lab (real Vault,
// real sshd, real systemd, the key-manager stand-in). The tests skip unless
// KMSCTL_LAB_DIR names a lab started with `lab/lab up`; lab/test.sh and
// `make test` start one.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// lab is a running lab seen from a test.
type lab struct {
	dir   string
	env   []string
	nodes []string
}

var (
	buildOnce sync.Once
	kmsctlBin string
	buildErr  error
)

// repoRoot is two levels above this package.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// needLab returns the running lab or skips the test.
func needLab(t *testing.T) *lab {
	t.Helper()
	dir := os.Getenv("KMSCTL_LAB_DIR")
	if dir == "" {
		t.Skip("KMSCTL_LAB_DIR is not set: start a lab with lab/lab up (make test does)")
	}
	buildOnce.Do(func() {
		kmsctlBin = filepath.Join(os.TempDir(), fmt.Sprintf("kmsctl-e2e-%d", os.Getpid()))
		cmd := exec.Command("go", "build", "-o", kmsctlBin, "./cmd/kmsctl")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build kmsctl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	l := &lab{dir: dir, env: readEnvSh(t, filepath.Join(dir, "env.sh"))}
	for _, kv := range l.env {
		if n, ok := strings.CutPrefix(kv, "LAB_NODES="); ok {
			for i := 1; i <= atoi(n); i++ {
				l.nodes = append(l.nodes, fmt.Sprintf("kms-%d", i))
			}
		}
	}
	if len(l.nodes) == 0 {
		t.Fatal("env.sh has no LAB_NODES")
	}
	return l
}

func atoi(s string) int {
	n := 0
	fmt.Sscanf(strings.Trim(s, `"'`), "%d", &n)
	return n
}

// readEnvSh reads the lab's env.sh.
func readEnvSh(t *testing.T, path string) []string {
	t.Helper()
	env, err := labdir.ReadEnv(path)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// getenv reads a variable of the lab's env.sh.
func (l *lab) getenv(key string) string {
	for _, kv := range l.env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// result is one finished command.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// kmsctl runs the kmsctl binary with the lab's environment (plus extra).
func (l *lab) kmsctl(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	return l.run(t, nil, extra, kmsctlBin, args...)
}

// labCmd runs lab/lab.
func (l *lab) labCmd(t *testing.T, args ...string) result {
	t.Helper()
	full := append([]string{args[0], "--dir", l.dir}, args[1:]...)
	return l.run(t, nil, nil, filepath.Join(repoRoot(), "lab", "lab"), full...)
}

// exec runs a command inside a node, without SSH.
func (l *lab) exec(t *testing.T, stdin []byte, node string, args ...string) result {
	t.Helper()
	full := append([]string{"exec", "--dir", l.dir, node, "--"}, args...)
	return l.run(t, stdin, nil, filepath.Join(repoRoot(), "lab", "lab"), full...)
}

func (l *lab) run(t *testing.T, stdin []byte, extra []string, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(append(os.Environ(), l.env...), "NO_COLOR=1", "XDG_STATE_HOME="+t.TempDir()), extra...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return r
}

// must fails the test unless r exited 0.
func must(t *testing.T, r result, what string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: %s", what, r)
	}
	return r
}
