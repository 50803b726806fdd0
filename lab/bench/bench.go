package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kmsctl/kmsctl/lab/load"
)

// bench holds one benchmark session against one lab.
type bench struct {
	o     options
	lab   *labInfo
	ctl   *labCtl
	facts string
	snap  bool // the lab's up state is recorded
}

func newBench(o options) (*bench, error) {
	l, err := readLab(o.dir)
	if err != nil {
		return nil, err
	}
	if o.work == "" {
		if o.work, err = os.MkdirTemp("", "kmsctl-bench-"); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(o.work, "state"), 0o700); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if err := writeAnsibleFiles(l, o.work, o.settle, o.restartTO, o.gateTimeout); err != nil {
		return nil, err
	}
	facts, err := os.ReadFile(filepath.Join(benchDir(), "facts.sh"))
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	names := make([]string, len(l.Nodes))
	for i, n := range l.Nodes {
		names[i] = n.Name
	}
	ctl := &labCtl{bin: o.labBin, dir: o.dir, src: filepath.Dir(benchDir()), nodes: names}
	return &bench{o: o, lab: l, ctl: ctl, facts: string(facts)}, nil
}

// all runs every case and returns the table rows; after a migrate case the
// lab is put back to its up state.
func (b *bench) all(ctx context.Context) ([]row, error) {
	if b.o.plainRootBashrc {
		if err := b.ctl.plainRootShell(ctx); err != nil {
			return nil, err
		}
	}
	if !b.healthy(ctx) {
		return nil, fmt.Errorf("lab %s is not healthy (kmsctl status exits non-zero)", b.o.dir)
	}
	var rows []row
	for _, c := range b.o.cases {
		r, err := b.runCase(ctx, c)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("case %s: %w", c, err)
		}
	}
	if b.snap {
		if err := b.ctl.reset(ctx, b.healthy); err != nil {
			return rows, fmt.Errorf("final reset: %w", err)
		}
	}
	return rows, nil
}

// runCase runs both tools o.runs times, alternating which goes first.
func (b *bench) runCase(ctx context.Context, c string) ([]row, error) {
	migrate := c == "migrate"
	if migrate && !b.snap {
		if err := b.ctl.snapshot(ctx); err != nil {
			return nil, err
		}
		b.snap = true
	}
	tools := []string{"kmsctl", "ansible"}
	if !migrate {
		for i := 0; i < b.o.warmup; i++ {
			for _, t := range tools {
				if _, err := b.once(ctx, c, t, fmt.Sprintf("warmup%d", i)); err != nil {
					return nil, err
				}
			}
		}
	}
	got := map[string][]sample{}
	for i := 0; i < b.o.runs; i++ {
		order := tools
		if i%2 == 1 {
			order = []string{"ansible", "kmsctl"}
		}
		for _, t := range order {
			s, err := b.once(ctx, c, t, fmt.Sprint(i))
			if err != nil {
				return nil, err
			}
			got[t] = append(got[t], s)
			fmt.Fprintf(os.Stderr, "%s %d nodes run %d %-7s %8.2fs exit %d rss %d KB floor %.2fs (%d restarts)\n",
				c, len(b.lab.Nodes), i, t, s.Wall.Seconds(), s.Code, s.RSSKB, s.Floor.Seconds(), s.Steps)
			if s.Load != nil {
				fmt.Fprintf(os.Stderr, "  load: %d failed reads, longest read gap %.2fs, writes refused %.2fs, %d lost\n",
					s.Load.FailedReads, s.Load.ReadGap.Seconds(), s.Load.WriteDown.Seconds(), s.Load.Lost)
			}
		}
	}
	return b.rows(c, got), nil
}

func (b *bench) rows(c string, got map[string][]sample) []row {
	migrate := c == "migrate"
	settle := time.Duration(0)
	if migrate {
		settle = b.o.settle
	}
	k := row{Case: c, Tool: "kmsctl", Nodes: len(b.lab.Nodes), Sum: summarize(got["kmsctl"], settle), Migrate: migrate, Settle: settle}
	a := row{Case: c, Tool: "ansible", Nodes: len(b.lab.Nodes), Sum: summarize(got["ansible"], settle), Migrate: migrate, Settle: settle}
	if a.Sum.Median > 0 {
		k.Ratio = k.Sum.Median.Seconds() / a.Sum.Median.Seconds()
	}
	return []row{k, a}
}

// once runs one tool once in case c (after a reset for migrate) and returns
// its sample, with the floor read from the nodes' journals for migrate.
func (b *bench) once(ctx context.Context, c, tool, label string) (sample, error) {
	migrate := c == "migrate"
	if migrate {
		if err := b.ctl.reset(ctx, b.healthy); err != nil {
			return sample{}, err
		}
	}
	closeMasters(ctx)
	inv := b.invocation(c, tool)
	inv.Log = filepath.Join(b.o.work, fmt.Sprintf("%s-%s-%s.log", c, tool, label))
	var traffic *load.Load
	if migrate && b.o.load {
		var err error
		if traffic, err = b.startLoad(ctx); err != nil {
			return sample{}, err
		}
	}
	start := time.Now()
	r, err := measure(ctx, inv)
	end := time.Now()
	closeMasters(ctx)
	if err != nil {
		return sample{}, err
	}
	s := sample{Wall: r.Wall, RSSKB: r.RSSKB, Code: r.Code}
	if traffic != nil {
		s.Load = b.stopLoad(ctx, traffic, fmt.Sprintf("%s-%s-%s", c, tool, label))
	}
	if r.Code != 0 {
		fmt.Fprintf(os.Stderr, "%s %s run %s exited %d: see %s\n", c, tool, label, r.Code, inv.Log)
	}
	if migrate {
		j, err := b.ctl.journals(ctx, start)
		if err != nil {
			return s, err
		}
		s.Floor, s.Steps = floorOf(j, start, end)
	}
	return s, nil
}

// startLoad starts issue 13's traffic against every node (lab/load).
func (b *bench) startLoad(ctx context.Context) (*load.Load, error) {
	eps := make([]string, len(b.lab.Nodes))
	for i, n := range b.lab.Nodes {
		eps[i] = n.Address + ":7373"
	}
	g, err := load.Start(ctx, load.Config{Dir: b.o.dir, Endpoints: eps, Keep: 50})
	if err != nil {
		return nil, fmt.Errorf("start the load: %w", err)
	}
	return g, nil
}

// stopLoad stops the traffic once the cluster is healthy again (the final
// check asks every node), keeps its JSON report beside the run's log and
// returns its figures.
func (b *bench) stopLoad(ctx context.Context, g *load.Load, label string) *loadSample {
	for i := 0; i < 60 && !b.healthy(ctx); i++ {
		time.Sleep(time.Second)
	}
	rep := g.Stop(ctx)
	if f, err := os.Create(filepath.Join(b.o.work, label+"-load.json")); err == nil {
		_ = rep.WriteJSON(f)
		f.Close()
	}
	return &loadSample{FailedReads: rep.FailedReads, ReadGap: secondsOf(rep.ReadGapSeconds),
		WriteDown: secondsOf(rep.WriteUnavailable), Lost: rep.Check.Lost()}
}

func secondsOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// invocation is the command line of tool in case c.
func (b *bench) invocation(c, tool string) invocation {
	n := fmt.Sprint(len(b.lab.Nodes))
	inv := filepath.Join(b.o.dir, "inventory.yaml")
	kenv := append(append([]string{}, b.lab.Env...), "NO_COLOR=1", "XDG_STATE_HOME="+filepath.Join(b.o.work, "state"))
	aenv := ansibleEnv(benchDir())
	hosts := filepath.Join(b.o.work, "hosts.ini")
	switch {
	case tool == "kmsctl" && c == "status":
		return invocation{Args: []string{b.o.kmsctl, "status", "-i", inv}, Env: kenv, RSS: true}
	case tool == "kmsctl" && c == "status-nokey":
		return invocation{Args: []string{b.o.kmsctl, "status", "-i", inv}, Env: append(without(kenv, "MINIO_KMS_API_KEY"), "MINIO_KMS_API_KEY="), RSS: true}
	case tool == "kmsctl":
		return invocation{Args: []string{b.o.kmsctl, "hsm", "enable-vault", "-i", inv, "--yes",
			"--settle", b.o.settle.String(), "--gate-timeout", b.o.gateTimeout.String(), "--restart-timeout", b.o.restartTO.String()},
			Env: kenv, RSS: true}
	case c == "migrate":
		return invocation{Args: []string{"ansible-playbook", "-i", hosts, "-e", "@" + filepath.Join(b.o.work, "vars.yml"), "-f", n,
			filepath.Join(benchDir(), "playbook.yml")}, Env: aenv, Dir: b.o.work, RSS: true}
	default:
		return invocation{Args: []string{"ansible", "kms", "-i", hosts, "-m", "ansible.builtin.shell", "-a", b.facts, "-f", n},
			Env: aenv, Dir: b.o.work, RSS: true}
	}
}

// healthy reports whether `kmsctl status` exits 0 (every node active,
// ready, in the cluster).
func (b *bench) healthy(ctx context.Context) bool {
	inv := b.invocation("status", "kmsctl")
	inv.RSS, inv.Log = false, filepath.Join(b.o.work, "healthcheck.log")
	r, err := measure(ctx, inv)
	return err == nil && r.Code == 0
}
