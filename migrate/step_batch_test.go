package migrate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kmsctl/kmsctl/remote"
)

// callLog is one sequence of remote calls and events, in the order they
// happened, shared by every node of a run.
type callLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *callLog) Emit(e Event) { l.add("event %s %s", or(e.Node, "-"), or(e.Step, "-")) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// countingNode records every remote call it makes; a batch is one call
// (as on an SSH node: one remote command), run with the reference meaning.
type countingNode struct {
	remote.Node
	log *callLog
}

func (c *countingNode) Run(ctx context.Context, cmd remote.Command) (remote.Result, error) {
	c.log.add("call %s run %s", c.Name(), strings.Join(cmd.Args, " "))
	return c.Node.Run(ctx, cmd)
}

func (c *countingNode) ReadFile(ctx context.Context, p string) ([]byte, remote.FileInfo, error) {
	c.log.add("call %s read %s", c.Name(), p)
	return c.Node.ReadFile(ctx, p)
}

func (c *countingNode) Stat(ctx context.Context, p string) (remote.FileInfo, error) {
	c.log.add("call %s stat %s", c.Name(), p)
	return c.Node.Stat(ctx, p)
}

func (c *countingNode) WriteFileAtomic(ctx context.Context, p string, data []byte, o remote.WriteOptions) error {
	c.log.add("call %s write %s", c.Name(), p)
	return c.Node.WriteFileAtomic(ctx, p, data, o)
}

func (c *countingNode) ApplyFiles(ctx context.Context, ops []remote.FileOp) error {
	c.log.add("call %s batch %d", c.Name(), len(ops))
	return remote.ApplyEach(ctx, c.Node, ops)
}

// A node step's file work (re-check, backup, manifest, write) takes at
// most two remote calls: the run's manifest read on the node's first step
// and one batch; every later step one batch. Counted from the step's first
// remote call on the node to its restart, under both stage-2 modes.
func TestStepFileWorkIsOneBatch(t *testing.T) {
	for _, together := range []bool{false, true} {
		t.Run(fmt.Sprintf("together=%v", together), func(t *testing.T) {
			s := newSim(3)
			log := &callLog{}
			ts := s.targets()
			for _, tg := range ts {
				tg.Node = &countingNode{Node: tg.Node, log: log}
			}
			opts, _ := testOpts("run-batch")
			opts.Events = log
			opts.Desired.KeepLocalEntry = true // the purge's restart has no file work
			if together {
				opts.Desired.Stage2 = Stage2Together
			}
			if _, err := Apply(context.Background(), ts, opts); err != nil {
				t.Fatal(err)
			}
			steps := fileWork(log.lines)
			if len(steps) != 6 {
				t.Fatalf("%d node steps found, want 6:\n%s", len(steps), strings.Join(log.lines, "\n"))
			}
			for step, calls := range steps {
				batches := 0
				for _, c := range calls {
					if strings.Contains(c, " batch ") {
						batches++
					}
				}
				if len(calls) > 2 || batches == 0 {
					t.Errorf("%s: file work took %d remote calls (%d batches), want at most 2 with one batch: %q", step, len(calls), batches, calls)
				}
			}
		})
	}
}

// fileWork maps "phase node" to the node's remote calls between the end of
// what ran before the step (the last event) and the node's restart,
// without the restart itself and the unit-state reads of the watch.
func fileWork(lines []string) map[string][]string {
	out := map[string][]string{}
	pending := map[string][]string{} // node -> calls since its last event
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case f[0] == "call" && strings.Contains(l, "systemctl restart"):
			node := f[1]
			phase := "stage1"
			if _, ok := out["stage1 "+node]; ok {
				phase = "stage2"
			}
			if _, ok := out["stage2 "+node]; ok {
				phase = "later"
			}
			out[phase+" "+node] = pending[node]
			pending[node] = nil
		case f[0] == "call" && strings.Contains(l, "systemctl show"):
			// the watch over migrated nodes (watch.go), not file work
		case f[0] == "call":
			pending[f[1]] = append(pending[f[1]], l)
		case f[2] == "backup" || f[2] == "write":
		case f[1] == "-":
			// a run event ends what came before on every node (facts, checks)
			pending = map[string][]string{}
		default:
			// a node's event ends what came before on that node (its gate)
			pending[f[1]] = nil
		}
	}
	return out
}
