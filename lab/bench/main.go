package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// options are the driver's flags.
type options struct {
	dir, kmsctl, labBin, work      string
	runs, warmup                   int
	plainRootBashrc, load          bool
	cases                          []string
	settle, gateTimeout, restartTO time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// benchDir is this package's directory (ansible.cfg, playbook, facts.sh).
func benchDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

func parseFlags(args []string) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	def := os.Getenv("KMSCTL_LAB_DIR")
	if def == "" {
		def = "/tmp/kmslab"
	}
	fs.StringVar(&o.dir, "dir", def, "the running lab's directory")
	fs.StringVar(&o.kmsctl, "kmsctl", "/tmp/kmsctl-bench", "kmsctl binary (go build -o /tmp/kmsctl-bench ./cmd/kmsctl)")
	fs.StringVar(&o.labBin, "lab", filepath.Join(benchDir(), "..", ".bin", "lab"), "the lab tool (built by lab/lab)")
	fs.StringVar(&o.work, "work", "", "directory for logs and the Ansible inventory (default: a new temporary one)")
	fs.IntVar(&o.runs, "runs", 3, "timed runs of each tool per case")
	fs.IntVar(&o.warmup, "warmup", 1, "untimed runs of each tool before a status case")
	fs.BoolVar(&o.plainRootBashrc, "plain-root-bashrc", false, "first give every node a root ~/.bashrc of its own (see reset.go)")
	fs.BoolVar(&o.load, "load", true, "run the load (lab/load) during every migration and report what it saw")
	cases := fs.String("cases", "status,status-nokey,migrate", "comma-separated: status, status-nokey, migrate")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "settle period after each restart (both tools)")
	fs.DurationVar(&o.gateTimeout, "gate-timeout", 60*time.Second, "health gate bound (both tools)")
	fs.DurationVar(&o.restartTO, "restart-timeout", 30*time.Second, "systemctl restart bound (both tools)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.cases = strings.Split(*cases, ",")
	for _, c := range o.cases {
		if c != "status" && c != "status-nokey" && c != "migrate" {
			return o, fmt.Errorf("unknown case %q", c)
		}
	}
	if o.runs < 1 || o.settle%time.Second != 0 {
		return o, errors.New("-runs must be at least 1 and -settle whole seconds (Ansible's pause)")
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	for _, bin := range []string{o.kmsctl, o.labBin, timeBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("need %s: %w", bin, err)
		}
	}
	for _, bin := range []string{"ansible", "ansible-playbook"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("need %s (apt-get install ansible-core): %w", bin, err)
		}
	}
	b, err := newBench(o)
	if err != nil {
		return err
	}
	rows, err := b.all(ctx)
	host, _ := os.Hostname()
	title(os.Stdout, fmt.Sprintf("%s (%d CPUs, %s)", host, runtime.NumCPU(), cpuModel()), o.cases, o.runs)
	printTable(os.Stdout, rows)
	fmt.Printf("\nlogs: %s\n", b.o.work)
	return err
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
