// Command load runs the lab's traffic generator (package lab/load) against
// a running lab, around a command or for a while, and prints its report:
//
//	go run ./cmd/load -dir /tmp/kmslab -- kmsctl hsm enable-vault -i /tmp/kmslab/inventory.yaml --yes
//	go run ./cmd/load -dir /tmp/kmslab -for 30s -o json
//
// Without a command or -for it runs until interrupted (or its bounds).
// Exit status: 1 when the final check finds a key or ciphertext lost on a
// node, 2 on bad usage or when the load cannot start; the command's own
// status is reported on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	cfg    load.Config
	dir    string
	during time.Duration
	output string
	cmd    []string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	d := load.Defaults
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dir, "dir", "", "the lab directory (default $KMSCTL_LAB_DIR, then /tmp/kmslab)")
	fs.Float64Var(&o.cfg.Rate, "rate", d.Rate, "decrypts plus generates per second")
	fs.DurationVar(&o.cfg.CreateEvery, "create-every", d.CreateEvery, "interval between key creates")
	fs.DurationVar(&o.cfg.ProbeEvery, "probe-every", d.ProbeEvery, "interval of the write probe and of a refused create's retries")
	fs.DurationVar(&o.cfg.MaxDuration, "max-duration", d.MaxDuration, "the load stops by itself after this long")
	fs.IntVar(&o.cfg.MaxRequests, "max-requests", d.MaxRequests, "the load stops by itself after this many requests")
	fs.DurationVar(&o.during, "for", 0, "run for this long (without a command)")
	fs.StringVar(&o.output, "o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.cmd = fs.Args()
	if o.output != "table" && o.output != "json" {
		return o, fmt.Errorf("-o %q: want table or json", o.output)
	}
	if o.cfg.Rate <= 0 {
		return o, fmt.Errorf("-rate %v: want a positive rate", o.cfg.Rate)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	if o.cfg.Dir, err = labdir.Resolve(o.dir); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	if o.cfg.Endpoints, err = load.LabEndpoints(o.cfg.Dir); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	l, err := load.Start(ctx, o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	fmt.Fprintf(stderr, "load: running against %d nodes\n", len(o.cfg.Endpoints))
	wait(ctx, o, stderr)
	rep := l.Stop(context.WithoutCancel(ctx))
	if o.output == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "load: write report:", err)
		return 2
	}
	if rep.Check.Lost() > 0 {
		return 1
	}
	return 0
}

// wait runs the command, or sleeps -for, or waits for a signal.
func wait(ctx context.Context, o options, stderr io.Writer) {
	switch {
	case len(o.cmd) > 0:
		c := exec.CommandContext(ctx, o.cmd[0], o.cmd[1:]...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, stderr, stderr
		if err := c.Run(); err != nil {
			fmt.Fprintf(stderr, "load: %s: %v\n", o.cmd[0], err)
		}
	case o.during > 0:
		t := time.NewTimer(o.during)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	default:
		<-ctx.Done()
	}
}
