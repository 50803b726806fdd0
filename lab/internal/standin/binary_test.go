package standin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds cmd/minkms and runs it as a plain process, configured
// through MINKMS_LAB_SETTINGS as a node without root would be.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "minkms")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/minkms").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	n := singleNode(t, "")
	run := func() (*exec.Cmd, *syncBuffer) {
		stderr := &syncBuffer{}
		cmd := exec.Command(bin, n.args()...)
		cmd.Env = append(os.Environ(), SettingsEnv+"="+n.Lab, LocalKeyEnv+"="+n.Env[LocalKeyEnv])
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		return cmd, stderr
	}

	cmd, stderr := run()
	eventually(t, 5*time.Second, "ready", func() (bool, string) { return n.readyCode(t) == 200, stderr.String() })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "minkms: unsealed with local\n") {
		t.Errorf("stderr:\n%s", stderr)
	}

	appendFile(t, n.Config, "unknown: 1\n")
	cmd, stderr = run()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), `line 10: unknown key "unknown"`) {
		t.Fatalf("bad config: %v\n%s", err, stderr)
	}
}
