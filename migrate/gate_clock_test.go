package migrate

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// readyAPI is a node API that is live and ready when ready is.
type readyAPI struct{ ready bool }

func (a readyAPI) Live(context.Context) error { return nil }
func (a readyAPI) Ready(context.Context) error {
	if !a.ready {
		return errors.New("503 not ready")
	}
	return nil
}
func (a readyAPI) ClusterStatus(context.Context) (*kmsapi.ClusterStatus, error) {
	return nil, ErrNoAPIKey
}

// TestGateRunsOnTheRunsClock: the gate's settle period and deadline are
// measured on Options.Now and waited with Options.After, so with a fake
// clock a settle of 5 minutes and a gate timeout of an hour pass in
// microseconds, with the same probes a real run would make.
func TestGateRunsOnTheRunsClock(t *testing.T) {
	gate := GateOptions{Settle: 5 * time.Minute, Timeout: time.Hour, RestartTimeout: time.Minute, Poll: 10 * time.Second}
	tests := []struct {
		name      string
		ready     bool
		wantProbe string        // "" : the gate passes
		minWait   time.Duration // clock time the gate must have waited
		shows     int           // systemctl show calls at least
	}{
		{name: "settles", ready: true, minWait: gate.Settle, shows: 1 + int(gate.Settle/gate.Poll)},
		{name: "never ready", ready: false, wantProbe: "ready", minWait: gate.Timeout, shows: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := remotetest.NewNode("kms-1")
			n.Respond([]string{"systemctl", "show"}, remote.Result{Stdout: []byte("ActiveState=active\nSubState=running\nResult=success\nNRestarts=0\nMainPID=42\n")})
			clock := remotetest.NewClock(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
			target := &Target{Name: "kms-1", Node: n, API: readyAPI{tt.ready}, Unit: "minkms"}
			r := newRunner([]*Target{target}, Options{Gate: gate, Now: clock.Now, After: clock.After})
			began := time.Now()
			err := r.gate(context.Background(), target, Want{})
			if real := time.Since(began); real > 10*time.Second {
				t.Fatalf("the gate waited %s of real time: it does not run on the injected clock", real)
			}
			var ge *GateError
			switch {
			case tt.wantProbe == "" && err != nil:
				t.Fatalf("gate: %v", err)
			case tt.wantProbe != "" && (!errors.As(err, &ge) || ge.Probe != tt.wantProbe):
				t.Fatalf("gate = %v, want a GateError of probe %q", err, tt.wantProbe)
			}
			if w := clock.Waited(); w < tt.minWait {
				t.Errorf("the gate waited %s on the clock, want at least %s", w, tt.minWait)
			}
			if got := len(n.Commands()); got < tt.shows {
				t.Errorf("%d systemctl show calls, want at least %d (one per poll)", got, tt.shows)
			}
		})
	}
}

// TestRolloutReadsOnlyItsClock: outside the defaults of Options (newRunner,
// the lock ticker's fallback), the rollout never reads or waits on the wall
// clock itself, so every wait a run makes follows Options.Now/After/Tick
// and a test's fake clock.
func TestRolloutReadsOnlyItsClock(t *testing.T) {
	wall := map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "Sleep": true, "Tick": true, "NewTimer": true, "NewTicker": true, "AfterFunc": true}
	allowed := map[string]bool{"newRunner": true, "ticker": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || allowed[fn.Name.Name] {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "time" && wall[sel.Sel.Name] {
					t.Errorf("%s: %s calls time.%s: use the run's clock (r.opts.Now/After/ticker)", fset.Position(sel.Pos()), fn.Name.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
