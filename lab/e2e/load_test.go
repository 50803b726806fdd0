package e2e

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/load"
)

// The load (lab/load, issue 13) runs through every full migration: a
// steady mix of decrypts and generates, key creates and a write probe,
// against every node with per-read failover, as a client of a running
// cluster would. These helpers are its one home in the e2e suite.

// traffic is a load running against the lab while a test migrates it.
type traffic struct {
	l   *lab
	g   *load.Load
	rep *load.Report
}

// startLoad starts the load (issue 13's default mix) against every node.
func (l *lab) startLoad(t *testing.T) *traffic {
	t.Helper()
	eps, err := load.LabEndpoints(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := load.Start(context.Background(), load.Config{Dir: l.dir, Endpoints: eps, MaxDuration: 10 * time.Minute})
	if err != nil {
		t.Fatalf("start the load: %v", err)
	}
	tr := &traffic{l: l, g: g}
	t.Cleanup(func() { tr.g.Stop(context.Background()) })
	return tr
}

// stop ends the load, logs its report, and fails the test on any key or
// ciphertext, from before the run or created during it, that is lost on
// any node (the data at rest an HSM change must never touch); rolling also
// fails it on a failed read (each read may go to every node before it
// counts as failed).
func (tr *traffic) stop(t *testing.T, rolling bool) *load.Report {
	t.Helper()
	tr.l.waitHealthy(t, 60*time.Second)
	tr.rep = tr.g.Stop(context.Background())
	var b strings.Builder
	tr.rep.WriteTable(&b)
	t.Logf("load:\n%s", b.String())
	if tr.rep.KeysDuring == 0 || tr.rep.Requests[load.KindDecrypt] == 0 {
		t.Fatalf("the load did not run (no key created or no decrypt during the run)")
	}
	lostCheck(t, "after the run", tr.rep.Check)
	if rolling && tr.rep.FailedReads > 0 {
		t.Fatalf("a rolling run must not fail a read: %d failed: %v", tr.rep.FailedReads, tr.rep.Failures)
	}
	return tr.rep
}

// afterRestart restarts every node once more, together (on whatever HSMs
// the run left them: Vault alone after a migration), and checks every key
// and kept ciphertext on every node again.
func (tr *traffic) afterRestart(t *testing.T) {
	t.Helper()
	tr.l.restartAll(t)
	c := tr.g.Check(context.Background())
	lostCheck(t, "after one more restart", c)
}

// lostCheck fails on any key or ciphertext lost on any node, saying how
// many were from before the run.
func lostCheck(t *testing.T, when string, c *load.Check) {
	t.Helper()
	if lost := c.Lost(); lost > 0 {
		t.Fatalf("%s, %d keys or ciphertexts are lost on some node (%d of them from before the run): %v", when, lost, c.LostBefore(), c.Problems())
	}
}

// assertDowntimeSeen compares the outage kmsctl reported for a
// `--stage2 together` restart with the longest interval in which the load
// had no successful read.
func (tr *traffic) assertDowntimeSeen(t *testing.T, reported float64) {
	t.Helper()
	if seen := tr.rep.ReadGapSeconds; math.Abs(seen-reported) > 1 {
		t.Fatalf("kmsctl reported %.2fs of downtime, the load saw no successful read for %.2fs (%s to %s): more than 1s apart",
			reported, seen, tr.rep.LongestReadGap.From.Format(time.StampMilli), tr.rep.LongestReadGap.To.Format(time.StampMilli))
	}
}
