package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck/vaultchecktest"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

var clusterNodes = []string{"kms-1", "kms-2", "kms-3"}

// live turns the scenario into a cluster that acts: every node starts
// without a Vault block, and each API reports its node's live state and the
// cluster view of the nodes that run (kms-2 leads). Run logs go to a
// temporary state directory.
func (s *scenario) live(t *testing.T) {
	t.Helper()
	s.env["MINIO_KMS_API_KEY"] = "k1:fake"
	s.env["XDG_STATE_HOME"] = t.TempDir()
	for _, name := range clusterNodes {
		n := newKMSNode(name, configPlain, envWithKey)
		s.nodes[name] = n
		s.dialer.Add(n.Node)
		s.apis[name].node, s.apis[name].view, s.apis[name].peers = n, s.view, s.clusterNodes
	}
}

// clusterNodes are the scenario's nodes, for the fake's cluster-wide writes.
func (s *scenario) clusterNodes() []*kmsNode {
	var out []*kmsNode
	for _, name := range clusterNodes {
		out = append(out, s.nodes[name])
	}
	return out
}

// view is the cluster as every running node sees it.
func (s *scenario) view() *kmsapi.ClusterStatus {
	cs := &kmsapi.ClusterStatus{Up: map[uint32]kmsapi.NodeStatus{}, Down: map[uint32]string{}}
	for i, name := range clusterNodes {
		id := uint32(i + 1)
		if n := s.nodes[name]; n.isRunning() {
			cs.Up[id] = n.status(id, name == "kms-2")
		} else {
			cs.Down[id] = fmt.Sprintf("10.213.0.%d:7373", 10+id)
		}
	}
	return cs
}

// main runs kmsctl with args on the scenario; tty makes the streams a
// terminal and feeds stdin (the answer to a confirmation).
func (s *scenario) main(t *testing.T, tty bool, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s.env["TEST_APPROLE_SECRET"] = testSecret
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	f.IO.SetTTY(tty)
	f.IO.In.(*bytes.Buffer).WriteString(stdin)
	code = Main(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// apply runs `hsm enable-vault --yes` on the scenario's inventory.
func (s *scenario) apply(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return s.main(t, false, "", append([]string{"hsm", "enable-vault", "-i", "testdata/hsm-inventory.yaml", "--skip-vault-check", "--yes"}, args...)...)
}

// events parses a JSON lines event stream.
func events(t *testing.T, stream string) []migrate.Event {
	t.Helper()
	var evs []migrate.Event
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e migrate.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON event line: %v\n%s", err, sc.Text())
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	return evs
}

// restartOrder lists the nodes of the stream's restart steps, in order.
func restartOrder(evs []migrate.Event) []string {
	var order []string
	for _, e := range evs {
		if e.Step == "restart" && e.Result == migrate.ResultOK {
			order = append(order, e.Node)
		}
	}
	return order
}

// summaryOf is the stream's final summary.
func summaryOf(t *testing.T, evs []migrate.Event) *migrate.Summary {
	t.Helper()
	last := evs[len(evs)-1]
	if last.Type != "summary" || last.Summary == nil {
		t.Fatalf("last event %+v is not the summary", last)
	}
	return last.Summary
}

// runLogOf reads the run log named on stderr.
func runLogOf(t *testing.T, stderr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stderr, "(log: ")
	path, _, _ := strings.Cut(rest, ")")
	if !ok {
		t.Fatalf("stderr names no run log:\n%s", stderr)
	}
	return readFile(t, path)
}

// noSecrets fails when the approle secret or an HSM key appears in text.
func noSecrets(t *testing.T, where, text string) {
	t.Helper()
	if strings.Contains(text, testSecret) || strings.Contains(text, "hsm:aes256:") {
		t.Errorf("a secret appears in %s", where)
	}
}

// TestApplyJSONStream: a full run with -o json moves every node to Vault,
// leader last in both stages, and streams one JSON event per line on
// stdout (the same events as the run log), ending with the summary. The
// clock is the Factory's: six gates of a 5 s settle (and the watch
// between the stages) take their time on it and no real waiting.
func TestApplyJSONStream(t *testing.T) {
	s := newScenario()
	s.live(t)
	began := time.Now()
	code, out, stderr := s.apply(t, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if real := time.Since(began); real >= migrate.DefaultGate.Settle {
		t.Errorf("the run took %s of real time: a settle period did not run on the Factory's clock", real)
	}
	evs := events(t, out)
	run := evs[0].Run
	for _, e := range evs {
		if e.Schema != migrate.EventSchema || e.Run != run {
			t.Fatalf("event %+v: want schema %s and run %s", e, migrate.EventSchema, run)
		}
	}
	if evs[0].Type != "run" || evs[0].Result != migrate.ResultStart {
		t.Errorf("first event %+v, want the run's start", evs[0])
	}
	sum := summaryOf(t, evs)
	if sum.Result != "success" || strings.Join(sum.Order, ",") != "kms-1,kms-3,kms-2" || len(sum.Nodes) != 3 {
		t.Errorf("summary %+v", sum)
	}
	if got := strings.Join(restartOrder(evs), ","); got != "kms-1,kms-3,kms-2,kms-1,kms-3,kms-2,"+purgeFollower {
		t.Errorf("restarts %s, want stage 1 then stage 2, leader (kms-2) last in each, then the purge's proof on a follower", got)
	}
	if sum.Duration < 30 {
		t.Errorf("run took %.1fs on the clock, want at least 30 (6 gates x 5 s settle on the Factory's clock)", sum.Duration)
	}
	if log := runLogOf(t, stderr); log != out {
		t.Errorf("the run log differs from the stream:\n%s", log)
	}
	if !strings.HasPrefix(stderr, "run "+run+" (log: ") {
		t.Errorf("stderr does not start with the run id: %s", stderr)
	}
	for where, text := range map[string]string{"stdout": out, "stderr": stderr} {
		noSecrets(t, where, text)
	}
	for _, name := range clusterNodes {
		assertOnVault(t, s.nodes[name])
	}
}

// purgeFollower is the node the purge restarts to prove the cluster
// unseals without the local entry: the first follower of the views.
const purgeFollower = "kms-1"

// assertOnVault checks one node after a successful run: Vault block in,
// HSM key out of the env file and of every file left on the node (the
// backups holding it deleted), the local entry purged, two restarts (three
// on the purge's follower), lock released, and the lock it held named this
// process (the Factory's host name and PID).
func assertOnVault(t *testing.T, n *kmsNode) {
	t.Helper()
	if blocks, _ := vaultBlocks([]byte(n.file(kmsConfigPath))); !slices.Equal(blocks, []string{"hsm.hashicorp.vault"}) {
		t.Errorf("%s: Vault blocks %v", n.Name(), blocks)
	}
	env := n.file(kmsEnvPath)
	if has, _ := envHasKey([]byte(env)); has || !strings.Contains(env, "MINIO_KMS_VOLUME=/var/lib/minkms") {
		t.Errorf("%s: env file after the run:\n%s", n.Name(), env)
	}
	for _, p := range n.Paths() {
		if strings.Contains(n.file(p), "hsm:aes256:") {
			t.Errorf("%s: %s still holds the HSM key", n.Name(), p)
		}
	}
	want := 2
	if n.Name() == purgeFollower {
		want++
	}
	if n.restartsDone != want {
		t.Errorf("%s: %d restarts, want %d", n.Name(), n.restartsDone, want)
	}
	if n.entries[localHSM] {
		t.Errorf("%s: the local HSM's entry survived the purge", n.Name())
	}
	if _, locked := n.File(migrate.LockPath("minkms")); locked {
		t.Errorf("%s: lock left behind", n.Name())
	}
	assertLockedBy(t, n)
}

// assertLockedBy checks that the node was locked, by this process.
func assertLockedBy(t *testing.T, n *kmsNode) {
	t.Helper()
	for _, c := range n.Calls() {
		if c.Op == remotetest.OpRun && len(c.Args) > 4 && c.Args[4] == migrate.LockPath("minkms") {
			var info migrate.LockInfo
			if err := json.Unmarshal(c.Stdin, &info); err != nil || info.Operator != testHost || info.PID != testPID {
				t.Errorf("%s: lock %s (%v), want operator %s pid %d", n.Name(), c.Stdin, err, testHost, testPID)
			}
			return
		}
	}
	t.Errorf("%s: never locked", n.Name())
}

// TestApplyHaltRestores: the second node of stage 1 cannot start with its
// Vault block; it is restored from its backup and proven to start, the
// leader is never touched, and the exit status is 5 with the node's
// journal in the message.
func TestApplyHaltRestores(t *testing.T) {
	s := newScenario()
	s.live(t)
	s.nodes["kms-3"].vaultFails = true
	code, out, stderr := s.apply(t, "-o", "json")
	if code != ExitHaltedRestored {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitHaltedRestored, stderr)
	}
	if got := s.nodes["kms-3"].file(kmsConfigPath); got != configPlain {
		t.Errorf("kms-3 config not restored:\n%s", got)
	}
	if !s.nodes["kms-3"].isRunning() || s.nodes["kms-3"].restartsDone != 2 {
		t.Errorf("kms-3: running %v after %d restarts, want running after the change and the restore", s.nodes["kms-3"].isRunning(), s.nodes["kms-3"].restartsDone)
	}
	if n := s.nodes["kms-2"]; n.restartsDone != 0 || len(n.writes()) != 0 {
		t.Errorf("the leader was touched: %d restarts, writes %v", n.restartsDone, n.writes())
	}
	evs := events(t, out)
	if sum := summaryOf(t, evs); sum.Result == "success" {
		t.Errorf("summary %+v after a halt", sum)
	}
	if !strings.Contains(stderr, "run "+evs[0].Run+": ") || !strings.Contains(stderr, "kms-3") || !strings.Contains(stderr, "approle login failed") {
		t.Errorf("stderr lacks the run, the node or its journal:\n%s", stderr)
	}
}

// TestApplyRestoreFails: a node that does not start even with its original
// files needs the operator: exit 7, never 5.
func TestApplyRestoreFails(t *testing.T) {
	s := newScenario()
	s.live(t)
	s.nodes["kms-1"].broken = true
	code, _, stderr := s.apply(t)
	if code != ExitRollbackFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitRollbackFailed, stderr)
	}
	if !strings.Contains(stderr, "kms-1") {
		t.Errorf("stderr does not name the node:\n%s", stderr)
	}
	for _, name := range []string{"kms-2", "kms-3"} {
		if w := s.nodes[name].writes(); len(w) > 0 {
			t.Errorf("%s written after kms-1 failed: %v", name, w)
		}
	}
}

// TestApplyRefusesBeforeAnyChange: an unhealthy node fails the preflight
// (exit 4) and an unreachable one the session (exit 4): no node is
// written or restarted.
func TestApplyRefusesBeforeAnyChange(t *testing.T) {
	tests := map[string]func(s *scenario){
		"unit failed": func(s *scenario) {
			n := s.nodes["kms-2"]
			n.unit, n.running = unitFailed, false
		},
		"node unreachable": func(s *scenario) { s.unreachable("kms-3", "dial tcp 10.213.0.13:22: connect: no route to host") },
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			s := newScenario()
			s.live(t)
			setup(s)
			code, _, stderr := s.apply(t)
			if code != ExitPreflightFailed {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitPreflightFailed, stderr)
			}
			s.noWrites(t)
			for _, n := range s.nodes {
				if n.restartsDone != 0 || n.file(kmsEnvPath) != envWithKey {
					t.Errorf("%s changed by a refused run", n.Name())
				}
			}
		})
	}
}

// TestApplyConfirm: on a terminal without --yes the plan is shown on
// stderr and the operator asked; "n" changes nothing (exit 1), "y" applies.
func TestApplyConfirm(t *testing.T) {
	for _, answer := range []string{"n\n", "y\n"} {
		t.Run(strings.TrimSpace(answer), func(t *testing.T) {
			s := newScenario()
			s.live(t)
			code, _, stderr := s.main(t, true, answer, "hsm", "enable-vault", "-i", "testdata/hsm-inventory.yaml", "--skip-vault-check")
			if !strings.Contains(stderr, "Apply this plan to the cluster? [y/N]") || !strings.Contains(stderr, "kms-2") {
				t.Errorf("no plan and question on stderr:\n%s", stderr)
			}
			if answer == "n\n" {
				if code != ExitFailed || !strings.Contains(stderr, "not confirmed: nothing was changed") {
					t.Errorf("declined: exit %d, stderr:\n%s", code, stderr)
				}
				s.noWrites(t)
				return
			}
			if code != ExitOK {
				t.Fatalf("confirmed: exit %d, stderr:\n%s", code, stderr)
			}
			assertOnVault(t, s.nodes["kms-1"])
		})
	}
}

// TestApplySavedPlan: a reviewed plan (--dry-run --out) applies while the
// nodes still match it, and is refused, changing nothing, once a node's
// file changed since; a plan file that cannot be read is an error before
// any node is touched.
func TestApplySavedPlan(t *testing.T) {
	plan := filepath.Join(t.TempDir(), "plan.json")
	s := newScenario()
	s.live(t)
	if code, _, stderr := s.apply(t, "--dry-run", "--out", plan); code != ExitOK {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	drift := newScenario()
	drift.live(t)
	drift.nodes["kms-1"].SetFile(kmsConfigPath, remotetest.File{Data: []byte(configPlain + "# edited since the plan\n"), Mode: 0o640})
	if code, _, stderr := drift.apply(t, "--plan", plan); code == ExitOK || !strings.Contains(stderr, "kms-1") {
		t.Errorf("drifted node: exit %d, stderr:\n%s", code, stderr)
	}
	drift.noWrites(t)
	if code, _, stderr := s.apply(t, "--plan", filepath.Join(t.TempDir(), "missing.json")); code == ExitOK || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing plan file: exit %d, stderr:\n%s", code, stderr)
	}
	s.noWrites(t)
	if code, _, stderr := s.apply(t, "--plan", plan); code != ExitOK {
		t.Fatalf("apply of the reviewed plan: exit %d: %s", code, stderr)
	}
	assertOnVault(t, s.nodes["kms-2"])
}

// TestApplyRunsTheVaultCheck: without --skip-vault-check the preflight
// runs the Vault check (from the operator and through every node's
// tunnel); a failing check stops the run before any change (exit 4), a
// passing one lets it through.
func TestApplyRunsTheVaultCheck(t *testing.T) {
	for _, broken := range []bool{true, false} {
		t.Run(fmt.Sprintf("hmac denied %v", broken), func(t *testing.T) {
			s := newScenario()
			s.live(t)
			e := newVCEnv(t)
			u, err := url.Parse(e.vault.URL())
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range s.nodes {
				n.ForwardTCP(u.Host, u.Host)
			}
			if broken {
				delete(e.vault.Caps, "transit/hmac/"+vaultchecktest.Key)
			}
			code, _, stderr := s.main(t, false, "", "hsm", "enable-vault", "-i", e.inventory(t, ""), "--yes")
			if broken {
				if code != ExitPreflightFailed || !strings.Contains(stderr, "transit/hmac/"+vaultchecktest.Key) {
					t.Errorf("exit %d, want %d naming the missing capability; stderr:\n%s", code, ExitPreflightFailed, stderr)
				}
				s.noWrites(t)
				return
			}
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			for _, n := range s.nodes {
				tunnelled := slices.ContainsFunc(n.Calls(), func(c remotetest.Call) bool { return c.Op == remotetest.OpDialTCP && c.Addr == u.Host })
				if !tunnelled {
					t.Errorf("%s: Vault never checked through the node", n.Name())
				}
				assertOnVault(t, n)
			}
		})
	}
}
