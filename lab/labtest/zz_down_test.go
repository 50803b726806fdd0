package labtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leftovers lists lab resources still present on the host: network
// namespaces, links, cgroups, mounts and live processes of the lab.
func leftovers(dir string) []string {
	var found []string
	for _, glob := range []string{"/run/netns/kmslab-*", "/sys/class/net/kmslab*", "/sys/fs/cgroup/unified/kmslab", "/sys/fs/cgroup/kmslab"} {
		m, _ := filepath.Glob(glob)
		found = append(found, m...)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, dir+"/") || strings.Contains(line, "/run/netns/kmslab") {
			found = append(found, "mount: "+line)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmd, err := os.ReadFile(p + "/cmdline")
		stat, _ := os.ReadFile(p + "/stat")
		if err != nil || zombie(stat) {
			continue
		}
		c := strings.ReplaceAll(string(cmd), "\x00", " ")
		if strings.Contains(c, "--unit=kmslab.target") || (strings.Contains(c, dir+"/") && !strings.Contains(c, "go test")) {
			found = append(found, "process "+filepath.Base(p)+": "+c)
		}
	}
	return found
}

func zombie(stat []byte) bool {
	s := string(stat)
	i := strings.LastIndex(s, ")")
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// TestDownLeavesNothing takes the lab down twice (the second run must also
// succeed), checks that nothing of it is left, and brings it up again with the
// same number of nodes so later tests find a lab. It runs last in this package
// (its file name sorts last); set KMSCTL_LAB_SKIP_DOWN=1 to skip it.
func TestDownLeavesNothing(t *testing.T) {
	l := needLab(t)
	if os.Getenv("KMSCTL_LAB_SKIP_DOWN") == "1" {
		t.Skip("KMSCTL_LAB_SKIP_DOWN=1")
	}
	n := len(l.state.Nodes)
	t.Cleanup(func() {
		// the same variant again (env.sh of the lab that was taken down)
		args := []string{"up", "--nodes", strconv.Itoa(n), "--hsm-names", l.env["LAB_HSM_NAMES"], "--unseal", l.env["LAB_UNSEAL"],
			"--admin-identity", l.env["LAB_ADMIN_IDENTITY"], "--restart-recreates-removed=" + l.env["LAB_RESTART_RECREATES_REMOVED"]}
		if out, err := l.labCmd(nil, args...); err != nil {
			t.Errorf("bringing the lab back up: %v\n%s", err, out)
		}
	})
	for i := range 2 {
		if out, err := l.labCmd(nil, "down"); err != nil {
			t.Fatalf("down #%d: %v\n%s", i+1, err, out)
		}
	}
	left := leftovers(l.dir.Root)
	for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		left = leftovers(l.dir.Root)
	}
	if len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}
