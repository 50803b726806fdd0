package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// purgeStatus is the part of `kmsctl status -o json` the purge tests read.
type purgeStatus struct {
	Healthy  bool        `json:"healthy"`
	Warnings []string    `json:"warnings"`
	Nodes    []purgeNode `json:"nodes"`
}

// purgeNode is one node of purgeStatus.
type purgeNode struct {
	Name   string `json:"name"`
	Member *struct {
		HSM       []string `json:"hsm"`
		HSMActive []string `json:"hsm_active"`
	} `json:"member"`
	LocalHSM *struct {
		Names       []string `json:"names"`
		Configured  *bool    `json:"configured"`
		SealedEntry *bool    `json:"sealed_entry"`
		EnvFile     bool     `json:"env_file_key"`
		Process     *bool    `json:"unit_environment_key"`
		PurgedBy    string   `json:"purged_by"`
		Note        string   `json:"note"`
	} `json:"local_hsm"`
}

func (l *lab) purgeStatus(t *testing.T) purgeStatus {
	t.Helper()
	r := l.kmsctl(t, nil, "status", "-i", l.inventory(), "-o", "json")
	var s purgeStatus
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	return s
}

// localNames is what every node has configured before any change: the
// local HSM, as this lab's naming calls it (read, never assumed).
func (l *lab) localNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, n := range l.purgeStatus(t).Nodes {
		if n.Member == nil {
			t.Fatalf("%s: not in the cluster view before the migration", n.Name)
		}
		for _, h := range n.Member.HSMActive {
			if !slices.Contains(names, h) {
				names = append(names, h)
			}
		}
	}
	return names
}

// useRecreate resets the lab and sets restart_recreates_removed on every node.
func (l *lab) useRecreate(t *testing.T, recreate string) {
	t.Helper()
	l.reset(t)
	if r := l.labCmd(t, "fault", "all", "restart-recreates-removed", recreate); r.code != 0 {
		t.Skipf("this lab cannot play restart-recreates-removed %s: %s", recreate, r)
	}
	t.Cleanup(func() { l.labCmd(t, "heal", "all") })
	l.restartAll(t)
}

// assertPurged: no node lists a local HSM in hsm or hsm_active, and status
// says the local key counts nowhere any more.
func (l *lab) assertPurged(t *testing.T, local []string) {
	t.Helper()
	s := l.purgeStatus(t)
	if !s.Healthy {
		t.Fatalf("cluster not healthy: %+v", s)
	}
	for _, n := range s.Nodes {
		m, lh := n.Member, n.LocalHSM
		if m == nil || lh == nil {
			t.Fatalf("%s: no member or local_hsm report", n.Name)
		}
		for _, h := range local {
			if slices.Contains(m.HSM, h) || slices.Contains(m.HSMActive, h) {
				t.Errorf("%s still lists the local HSM %s (hsm %v, hsm_active %v)", n.Name, h, m.HSM, m.HSMActive)
			}
		}
		if lh.Configured == nil || *lh.Configured || lh.SealedEntry == nil || *lh.SealedEntry || lh.EnvFile || lh.Process == nil || *lh.Process {
			t.Errorf("%s: status local_hsm %+v, want nothing left", n.Name, lh)
		}
		if lh.PurgedBy == "" || !slices.Equal(lh.Names, local) {
			t.Errorf("%s: status does not name the purged HSM and its run: %+v", n.Name, lh)
		}
	}
}

// noKeyCopies: no file kmsctl wrote or kept holds the key: the nodes'
// /etc, kmsctl's backups and /tmp, and the operator side's run logs.
func (l *lab) noKeyCopies(t *testing.T, stateDir string, out string) {
	t.Helper()
	for _, n := range l.nodes {
		r := l.exec(t, nil, n, "grep", "-rlE", "hsm:(aes256|chacha20):", "/etc", "/var/lib/kmsctl", "/tmp")
		if strings.TrimSpace(r.stdout) != "" {
			t.Errorf("%s: files still hold the HSM key: %s", n, r.stdout)
		}
	}
	_ = filepath.WalkDir(stateDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "hsm:aes256:") || strings.Contains(string(b), "hsm:chacha20:") {
				t.Errorf("run log %s holds the HSM key", p)
			}
		}
		return nil
	})
	if strings.Contains(out, "hsm:aes256:") {
		t.Error("kmsctl's output holds the HSM key")
	}
}

// The full migration purges the local entry under both start-up behaviours
// (restart_recreates_removed false and true: the key is gone, so nothing
// can re-seal it); a node restarted afterwards unseals through Vault; an
// attacker's copy of the key put back into an env file cannot unseal the
// node without Vault, and status says why.
func TestPurgeFullMigration(t *testing.T) {
	l := needLab(t)
	for _, recreate := range []string{"false", "true"} {
		t.Run("restart-recreates-removed="+recreate, func(t *testing.T) {
			l.useRecreate(t, recreate)
			local := l.localNames(t)
			key := keyLine(t, l.file(t, l.nodes[0], "/etc/default/minkms"))
			state := t.TempDir()
			r := must(t, l.kmsctl(t, []string{"XDG_STATE_HOME=" + state}, append(enable(l, l.inventory()), "-o", "json")...), "enable-vault")
			evs := parseEvents(t, r.stdout)
			if len(nodesOf(evs, "purge", "verify", "ok")) == 0 || !strings.Contains(r.stdout, `"local_entry":"removed (`) {
				t.Fatalf("no purge in the run: %s", r.stdout)
			}
			l.assertPurged(t, local)
			l.noKeyCopies(t, state, r.stdout+r.stderr)
			victim := l.nodes[len(l.nodes)-1]
			l.restartUnit(t, victim)
			l.waitHealthy(t, 60*time.Second)
			l.assertPurged(t, local)
			// the re-run on a purged cluster changes nothing
			again := must(t, l.kmsctl(t, nil, append(enable(l, l.inventory()), "-o", "json")...), "re-run")
			if !strings.Contains(again.stdout, `"local_entry":"already removed"`) || strings.Contains(again.stdout, `"step":"restart"`) {
				t.Fatalf("re-run on a purged cluster did something: %s", again.stdout)
			}
			l.attackerKey(t, victim, key, recreate == "true")
		})
	}
}

// attackerKey puts the old key back into victim's env file and cuts it off
// from Vault: it cannot unseal, and status says why. Healed, it unseals via
// Vault; a start that re-seals the removed entry (recreate) is shown too.
func (l *lab) attackerKey(t *testing.T, victim, key string, recreate bool) {
	t.Helper()
	env := l.file(t, victim, "/etc/default/minkms")
	must(t, l.exec(t, []byte(key+"\n"+env), victim, "sh", "-c", "cat > /etc/default/minkms"), "put the key back")
	must(t, l.labCmd(t, "fault", victim, "cutoff-vault"), "cutoff-vault")
	l.exec(t, nil, victim, "sh", "-c", "systemctl reset-failed minkms 2>/dev/null; systemctl restart minkms")
	var last purgeStatus
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		last = l.purgeStatus(t)
		if n := nodeOf(last, victim); n != nil && n.Member == nil && n.LocalHSM != nil && strings.Contains(n.LocalHSM.Note, "cannot unseal") {
			break
		}
		time.Sleep(time.Second)
	}
	n := nodeOf(last, victim)
	if n == nil || n.Member != nil || n.LocalHSM == nil || !n.LocalHSM.EnvFile || !strings.Contains(n.LocalHSM.Note, "the key alone cannot unseal this node") {
		t.Fatalf("%s with the old key and no Vault: status does not show it down and why: %+v", victim, n)
	}
	if r := l.kmsctl(t, nil, "status", "-i", l.inventory()); r.code == 0 || !strings.Contains(r.stdout, "cannot unseal") {
		t.Errorf("status table does not say why: %s", r)
	}
	l.labCmd(t, "heal", victim, "cutoff-vault")
	l.restartUnit(t, victim)
	l.waitHealthy(t, 60*time.Second)
	n = nodeOf(l.purgeStatus(t), victim)
	if n == nil || n.LocalHSM == nil || n.LocalHSM.SealedEntry == nil || *n.LocalHSM.SealedEntry != recreate {
		t.Fatalf("%s healed with the key in its env file: local_hsm %+v, want sealed entry %v", victim, n, recreate)
	}
	if recreate {
		// the entry came back with the key: purge-local refuses while the key is configured
		r := l.kmsctl(t, nil, purgeLocal(l)...)
		if r.code != 4 || !strings.Contains(r.stderr, "still has the local HSM configured") {
			t.Fatalf("purge-local with the key configured on %s: %s", victim, r)
		}
	}
}

func nodeOf(s purgeStatus, name string) *purgeNode {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i]
		}
	}
	return nil
}

// keyLine is the MINIO_KMS_HSM_KEY line of an env file.
func keyLine(t *testing.T, env string) string {
	t.Helper()
	for _, l := range strings.Split(env, "\n") {
		if strings.HasPrefix(l, "MINIO_KMS_HSM_KEY=") {
			return l
		}
	}
	t.Fatal("no MINIO_KMS_HSM_KEY in the env file")
	return ""
}

func purgeLocal(l *lab) []string {
	return append([]string{"hsm", "purge-local", "-i", l.inventory(), "--yes"}, fast...)
}

// --keep-local-entry leaves the entry (the summary says so); purge-local is
// refused with a node down, nothing removed, exit 4; once the node is back
// it purges; a second purge-local does nothing.
func TestPurgeKeepEntryThenPurgeLocal(t *testing.T) {
	l := needLab(t)
	l.reset(t)
	local := l.localNames(t)
	r := must(t, l.kmsctl(t, nil, enable(l, l.inventory(), "--keep-local-entry")...), "enable-vault --keep-local-entry")
	if !strings.Contains(r.stderr, "local HSM entry: kept (--keep-local-entry)") {
		t.Fatalf("summary does not say the entry was kept: %s", r.stderr)
	}
	for _, n := range l.purgeStatus(t).Nodes {
		if n.LocalHSM == nil || n.LocalHSM.SealedEntry == nil || !*n.LocalHSM.SealedEntry || !strings.Contains(n.LocalHSM.Note, "purge-local") {
			t.Fatalf("%s: status does not show the kept entry: %+v", n.Name, n.LocalHSM)
		}
	}
	down := l.nodes[len(l.nodes)-1]
	must(t, l.exec(t, nil, down, "systemctl", "stop", "minkms"), "stop "+down)
	r = l.kmsctl(t, nil, purgeLocal(l)...)
	if r.code != 4 || !strings.Contains(r.stderr, "purge refused") || !strings.Contains(r.stderr, down) {
		t.Fatalf("purge-local with %s down: %s", down, r)
	}
	l.restartUnit(t, down)
	l.waitHealthy(t, 60*time.Second)
	for _, n := range l.purgeStatus(t).Nodes {
		if n.LocalHSM == nil || n.LocalHSM.SealedEntry == nil || !*n.LocalHSM.SealedEntry {
			t.Fatalf("%s: a refused purge removed the entry: %+v", n.Name, n.LocalHSM)
		}
	}
	r = must(t, l.kmsctl(t, nil, purgeLocal(l)...), "purge-local")
	if !strings.Contains(r.stderr, "local HSM entry: removed") {
		t.Fatalf("purge-local summary: %s", r.stderr)
	}
	l.assertPurged(t, local)
	r = must(t, l.kmsctl(t, nil, purgeLocal(l)...), "purge-local again")
	if !strings.Contains(r.stderr, "already removed") {
		t.Fatalf("second purge-local: %s", r.stderr)
	}
}
