package cmd

import (
	"strings"
	"testing"
)

// rollback runs `hsm rollback` on the scenario's inventory.
func (s *scenario) rollback(t *testing.T, tty bool, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return s.main(t, tty, stdin, append([]string{"hsm", "rollback", "-i", "testdata/hsm-inventory.yaml"}, args...)...)
}

// stage1Run applies stage 1 only (--keep-local-hsm) and returns its run id.
func stage1Run(t *testing.T, s *scenario) string {
	t.Helper()
	code, out, stderr := s.apply(t, "--keep-local-hsm", "-o", "json")
	if code != ExitOK {
		t.Fatalf("stage 1 run: exit %d: %s", code, stderr)
	}
	return events(t, out)[0].Run
}

// TestRollbackRestoresEveryNode: rolling back a stage-1 run puts every
// node's config back byte for byte, one restart and gate per node, under
// a lock held by this process, with the JSON event stream on stdout and
// the same events in the rollback's run log.
func TestRollbackRestoresEveryNode(t *testing.T) {
	s := newScenario()
	s.live(t)
	run := stage1Run(t, s)
	code, out, stderr := s.rollback(t, false, "", "--run", run, "--yes", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	evs := events(t, out)
	if evs[0].Phase != "rollback" || evs[0].Run != run {
		t.Errorf("first event %+v, want the rollback of %s", evs[0], run)
	}
	if sum := summaryOf(t, evs); sum.Result != "success" || len(sum.Nodes) != 3 || sum.Nodes[0].Stage1 != "rolled back" {
		t.Errorf("summary %+v", sum)
	}
	if got := strings.Join(restartOrder(evs), ","); got != "kms-1,kms-2,kms-3" {
		t.Errorf("rollback restarts %s, want one per node", got)
	}
	if !strings.Contains(stderr, run+"-rollback.jsonl") || runLogOf(t, stderr) != out {
		t.Errorf("no run log of the rollback with the streamed events; stderr:\n%s", stderr)
	}
	for _, n := range s.nodes {
		if got := n.file(kmsConfigPath); got != configPlain {
			t.Errorf("%s: config after the rollback:\n%s", n.Name(), got)
		}
		if n.file(kmsEnvPath) != envWithKey || n.restartsDone != 2 || !n.isRunning() {
			t.Errorf("%s: env changed, %d restarts or not running", n.Name(), n.restartsDone)
		}
		if _, locked := n.File("/run/lock/kmsctl-minkms.lock"); locked {
			t.Errorf("%s: lock left behind", n.Name())
		}
		assertLockedBy(t, n)
	}
}

// TestRollbackRefuses: what is wrong with the request is refused before
// any node changes, with the documented exit status.
func TestRollbackRefuses(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		stdin   string
		args    []string
		setup   func(s *scenario)
		code    int
		wantErr string
	}{
		{name: "no run id", args: []string{"--yes"}, code: ExitUsage, wantErr: "--run is required"},
		{name: "no terminal, no --yes", args: []string{"--run", "RUN"}, code: ExitUsage, wantErr: "pass --yes"},
		{name: "declined", tty: true, stdin: "n\n", args: []string{"--run", "RUN"}, code: ExitFailed, wantErr: "Roll back run RUN on every node? [y/N] kmsctl: not confirmed: nothing was changed"},
		{name: "unknown run", args: []string{"--run", "nope", "--yes"}, code: ExitPreflightFailed, wantErr: "no backups of run nope on any node"},
		{name: "node unreachable", args: []string{"--run", "RUN", "--yes"}, setup: func(s *scenario) {
			s.unreachable("kms-2", "dial tcp 10.213.0.12:22: i/o timeout")
		}, code: ExitPreflightFailed, wantErr: "node kms-2: cannot connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario()
			s.live(t)
			run := stage1Run(t, s)
			if tt.setup != nil {
				tt.setup(s)
			}
			for i, a := range tt.args {
				if a == "RUN" {
					tt.args[i] = run
				}
			}
			tt.wantErr = strings.ReplaceAll(tt.wantErr, "RUN", run)
			before := map[string]int{}
			for name, n := range s.nodes {
				before[name] = len(n.writes())
			}
			code, _, stderr := s.rollback(t, tt.tty, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.wantErr, stderr)
			}
			for name, n := range s.nodes {
				if len(n.writes()) != before[name] || n.restartsDone != 1 {
					t.Errorf("%s changed by a refused rollback", name)
				}
			}
		})
	}
}

// TestRollbackNodeDoesNotStart: a node that starts on nothing any more
// stops the rollback there with exit 7 (operator action needed), naming
// the node and where its files are.
func TestRollbackNodeDoesNotStart(t *testing.T) {
	s := newScenario()
	s.live(t)
	run := stage1Run(t, s)
	s.nodes["kms-2"].broken = true
	code, _, stderr := s.rollback(t, false, "", "--run", run, "--yes")
	if code != ExitRollbackFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitRollbackFailed, stderr)
	}
	if !strings.Contains(stderr, "node kms-2: restore failed") || !strings.Contains(stderr, "/var/lib/kmsctl/backups/"+run) {
		t.Errorf("stderr does not name the node and its backups:\n%s", stderr)
	}
	if s.nodes["kms-3"].restartsDone != 1 {
		t.Errorf("kms-3 rolled back after kms-2 failed")
	}
	if !strings.Contains(stderr, "Summary run "+run+": restore-failed") {
		t.Errorf("no summary on stderr:\n%s", stderr)
	}
}
