package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fast keeps the gates short in the lab: the stand-in is ready in about a second.
var fast = []string{"--settle", "2s", "--gate-timeout", "60s", "--restart-timeout", "30s"}

func enable(l *lab, inv string, extra ...string) []string {
	return append(append([]string{"hsm", "enable-vault", "-i", inv, "--yes"}, fast...), extra...)
}

// statusJSON is the part of `kmsctl status -o json` these tests read.
type statusJSON struct {
	Healthy bool `json:"healthy"`
	Nodes   []struct {
		Name  string `json:"name"`
		Files struct {
			LocalKey    bool     `json:"local_key"`
			VaultBlocks []string `json:"vault_blocks"`
		} `json:"files"`
		Member *struct {
			HSM          []string `json:"hsm"`
			LocalHSMs    []string `json:"local_hsms"`
			ExternalHSMs []string `json:"external_hsms"`
			HSMNote      string   `json:"hsm_note"`
		} `json:"member"`
	} `json:"nodes"`
	Cluster *struct {
		Leader string `json:"leader"`
		Up     []struct {
			Node string   `json:"node"`
			HSM  []string `json:"hsm"`
		} `json:"nodes_up"`
	} `json:"cluster"`
}

func (l *lab) status(t *testing.T) statusJSON {
	t.Helper()
	r := l.kmsctl(t, nil, "status", "-i", l.inventory(), "-o", "json")
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	return s
}

// leader is the node the cluster calls leader now.
func (l *lab) leader(t *testing.T) string {
	t.Helper()
	s := l.status(t)
	if s.Cluster == nil || s.Cluster.Leader == "" {
		t.Fatalf("no leader in status: %+v", s)
	}
	return s.Cluster.Leader
}

// assertOnVault checks that every node runs on Vault alone, with no copy of
// the HSM key left on it, and that a restart still unseals.
func (l *lab) assertOnVault(t *testing.T) {
	t.Helper()
	s := l.status(t)
	if !s.Healthy {
		t.Fatalf("cluster not healthy after the migration: %+v", s)
	}
	for _, n := range s.Nodes {
		if n.Files.LocalKey || len(n.Files.VaultBlocks) != 1 {
			t.Errorf("%s: local key %v, vault blocks %v", n.Name, n.Files.LocalKey, n.Files.VaultBlocks)
		}
	}
	if s.Cluster == nil || len(s.Cluster.Up) != len(l.nodes) {
		t.Fatalf("cluster view: %+v", s.Cluster)
	}
	// The HSMs are told apart by difference (never by name): on a node with
	// only the Vault block, every configured HSM is the external one, and
	// each must hold a sealed entry.
	for _, n := range s.Nodes {
		m := n.Member
		if m == nil || len(m.ExternalHSMs) == 0 || len(m.LocalHSMs) != 0 {
			t.Errorf("%s: status does not show it on its external HSM alone: %+v", n.Name, m)
			continue
		}
		for _, h := range m.ExternalHSMs {
			if !slices.Contains(m.HSM, h) {
				t.Errorf("%s: external HSM %s has no sealed entry (hsm %v)", n.Name, h, m.HSM)
			}
		}
	}
	for _, n := range l.nodes {
		r := l.exec(t, nil, n, "grep", "-rl", "hsm:aes256:", "/etc", "/var/lib/kmsctl")
		if strings.TrimSpace(r.stdout) != "" {
			t.Errorf("%s: files still hold the HSM key: %s", n, r.stdout)
		}
	}
	l.restartUnit(t, l.nodes[0])
	l.waitHealthy(t, 60*time.Second)
}

func TestMigrateFullAsRootAndSudo(t *testing.T) {
	l := needLab(t)
	for _, inv := range []string{"inventory.yaml", "inventory-sudo.yaml"} {
		t.Run(inv, func(t *testing.T) {
			l.reset(t)
			leader := l.leader(t)
			tr := l.startLoad(t)
			r := l.kmsctl(t, nil, append(enable(l, filepath.Join(l.dir, inv)), "-o", "json")...)
			if r.code != 0 {
				t.Fatalf("enable-vault: %s", r)
			}
			tr.stop(t, true)
			evs := parseEvents(t, r.stdout)
			order := nodesOf(evs, "stage1", "restart", "ok")
			if len(order) != len(l.nodes) || order[len(order)-1] != leader {
				t.Fatalf("stage 1 restart order %v, want the leader %s last", order, leader)
			}
			if got := nodesOf(evs, "stage2", "restart", "ok"); len(got) != len(l.nodes) {
				t.Fatalf("stage 2 restarted %v", got)
			}
			secret, _ := os.ReadFile(l.getenv("LAB_APPROLE_SECRET_FILE"))
			if s := strings.TrimSpace(string(secret)); s == "" || strings.Contains(r.stdout+r.stderr, s) {
				t.Fatal("the approle secret id appears in the output (or could not be read)")
			}
			l.assertOnVault(t)
			tr.afterRestart(t)
			again := l.kmsctl(t, nil, append(enable(l, filepath.Join(l.dir, inv)), "-o", "json")...)
			if again.code != 0 || len(nodesOf(parseEvents(t, again.stdout), "stage1", "restart", "ok")) != 0 {
				t.Fatalf("a second run must change nothing and exit 0: %s", again)
			}
		})
	}
}

// firstFollower is the first node stage 1 touches: the first non-leader.
func (l *lab) firstFollower(t *testing.T) string {
	leader := l.leader(t)
	for _, n := range l.nodes {
		if n != leader {
			return n
		}
	}
	t.Fatal("no follower")
	return ""
}

func TestMigrateFailStartHaltsAndRestores(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	victim := l.firstFollower(t)
	orig := l.file(t, victim, "/etc/minkms/config.yaml")
	must(t, l.labCmd(t, "fault", victim, "fail-start", "vault"), "fault")
	tr := l.startLoad(t)
	r := l.kmsctl(t, nil, enable(l, l.inventory())...)
	if r.code != 5 || !strings.Contains(r.stderr, victim) || !strings.Contains(r.stderr, "restored") {
		t.Fatalf("want exit 5 naming %s as restored: %s", victim, r)
	}
	if got := l.file(t, victim, "/etc/minkms/config.yaml"); got != orig {
		t.Fatalf("%s config not restored:\n%s", victim, got)
	}
	for _, n := range l.nodes {
		if n != victim && strings.Contains(l.file(t, n, "/etc/minkms/config.yaml"), "vault:") {
			t.Fatalf("%s was touched after the failing node", n)
		}
	}
	l.waitHealthy(t, 30*time.Second)
	must(t, l.labCmd(t, "heal", victim, "fail-start"), "heal")
	must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "re-run after healing")
	tr.stop(t, true)
	l.assertOnVault(t)
	tr.afterRestart(t)
}

func TestMigrateVaultStoppedInStage1(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	// A long settle keeps stage 1 going well after Vault is stopped: a stop
	// that landed only in stage 2 would test something else (exit 7).
	run := l.start(t, enable(l, l.inventory(), "--settle", "8s")...)
	run.waitFor(t, 3*time.Minute, func(e event) bool { return e.Phase == "stage1" && e.Step == "gate" && e.Result == "ok" })
	must(t, l.labCmd(t, "fault", "vault", "stop"), "stop vault")
	if code := run.wait(t); code != 5 {
		t.Fatalf("want exit 5 (halted, node restored), got %d\n%s", code, run.stderr)
	}
	l.waitHealthy(t, 30*time.Second)
	must(t, l.labCmd(t, "heal", "vault"), "start vault")
	must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "re-run")
	l.assertOnVault(t)
}

func TestMigrateInterrupted(t *testing.T) {
	l := needLab(t)
	for _, stage := range []string{"stage1", "stage2"} {
		t.Run(stage, func(t *testing.T) {
			l.reset(t)
			tr := l.startLoad(t)
			run := l.start(t, enable(l, l.inventory())...)
			run.waitFor(t, 3*time.Minute, func(e event) bool { return e.Phase == stage && e.Step == "write" && e.Result == "ok" })
			_ = run.cmd.Process.Signal(syscall.SIGINT)
			if code := run.wait(t); code != 6 {
				t.Fatalf("want exit 6 (interrupted), got %d\n%s", code, run.stderr)
			}
			l.waitHealthy(t, 30*time.Second)
			for _, n := range l.nodes {
				if r := l.exec(t, nil, n, "ls", "/run/lock/kmsctl-minkms.lock"); r.code == 0 {
					t.Fatalf("%s: lock left behind", n)
				}
			}
			must(t, l.kmsctl(t, nil, enable(l, l.inventory())...), "resume")
			tr.stop(t, true)
			l.assertOnVault(t)
			tr.afterRestart(t)
		})
	}
}

func TestMigrateLocks(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	run := l.start(t, enable(l, l.inventory())...)
	run.waitFor(t, time.Minute, func(e event) bool { return e.Step == "lock" && e.Result == "ok" })
	second := l.kmsctl(t, nil, enable(l, l.inventory())...)
	if second.code != 4 || !strings.Contains(second.stderr, "held by run") {
		t.Fatalf("a concurrent run must be refused by the lock: %s", second)
	}
	if code := run.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, run.stderr)
	}
	l.reset(t)
	stale := fmt.Sprintf(`{"run":"dead-run","operator_host":"gone","pid":1,"refreshed":%q}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	must(t, l.exec(t, []byte(stale), l.nodes[1], "sh", "-c", "cat > /run/lock/kmsctl-minkms.lock"), "plant lock")
	refused := l.kmsctl(t, nil, enable(l, l.inventory())...)
	if refused.code != 4 || !strings.Contains(refused.stderr, "stale") || !strings.Contains(refused.stderr, "dead-run") {
		t.Fatalf("a stale lock must be reported with its owner: %s", refused)
	}
	must(t, l.kmsctl(t, nil, enable(l, l.inventory(), "--force-unlock")...), "--force-unlock")
}

func TestMigrateSplitRuleCanaryThenTogether(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	must(t, l.labCmd(t, "fault", "all", "split-rule"), "split rule")
	r := l.kmsctl(t, nil, enable(l, l.inventory())...)
	if r.code != 5 || !strings.Contains(r.stderr, "--stage2 together") {
		t.Fatalf("the canary must be restored with advice: %s", r)
	}
	l.waitHealthy(t, 30*time.Second)
	for _, n := range l.nodes {
		if !strings.Contains(l.file(t, n, "/etc/default/minkms"), "MINIO_KMS_HSM_KEY") {
			t.Fatalf("%s lost its local key", n)
		}
	}
	tr := l.startLoad(t)
	tog := l.kmsctl(t, nil, append(enable(l, l.inventory(), "--stage2", "together"), "-o", "json")...)
	if tog.code != 0 {
		t.Fatalf("--stage2 together: %s", tog)
	}
	tr.stop(t, false)
	evs := parseEvents(t, tog.stdout)
	last := evs[len(evs)-1]
	if last.Summary == nil || last.Summary.Downtime <= 0 {
		t.Fatalf("the together restart must report its downtime: %+v", last)
	}
	tr.assertDowntimeSeen(t, last.Summary.Downtime)
	l.assertOnVault(t)
	tr.afterRestart(t)
}

func TestStalePlanRefusedFreshPlanApplies(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	plan := filepath.Join(t.TempDir(), "plan.json")
	must(t, l.kmsctl(t, nil, "hsm", "enable-vault", "-i", l.inventory(), "--dry-run", "--out", plan), "plan")
	must(t, l.exec(t, nil, l.nodes[1], "sh", "-c", "echo '# edited by hand' >> /etc/minkms/config.yaml"), "edit")
	r := l.kmsctl(t, nil, enable(l, l.inventory(), "--plan", plan)...)
	if r.code != 4 || !strings.Contains(r.stderr, "plan is stale") || !strings.Contains(r.stderr, l.nodes[1]) {
		t.Fatalf("a stale plan must be refused: %s", r)
	}
	must(t, l.kmsctl(t, nil, "hsm", "enable-vault", "-i", l.inventory(), "--dry-run", "--out", plan), "fresh plan")
	must(t, l.kmsctl(t, nil, enable(l, l.inventory(), "--plan", plan)...), "apply fresh plan")
}

func TestRollbackAfterStage1(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	orig := map[string]string{}
	for _, n := range l.nodes {
		orig[n] = l.file(t, n, "/etc/minkms/config.yaml")
	}
	tr := l.startLoad(t)
	r := must(t, l.kmsctl(t, nil, append(enable(l, l.inventory(), "--keep-local-hsm"), "-o", "json")...), "stage 1 only")
	evs := parseEvents(t, r.stdout)
	runID := evs[len(evs)-1].Run
	must(t, l.kmsctl(t, nil, append([]string{"hsm", "rollback", "-i", l.inventory(), "--run", runID, "--yes"}, "--gate-timeout", "60s")...), "rollback")
	for _, n := range l.nodes {
		if got := l.file(t, n, "/etc/minkms/config.yaml"); got != orig[n] {
			t.Fatalf("%s: config not restored", n)
		}
	}
	l.waitHealthy(t, 30*time.Second)
	tr.stop(t, true)
	tr.afterRestart(t)
}
