package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// timeBin is GNU time (apt package `time`), whose -v report gives the peak
// resident set size of the command it runs.
const timeBin = "/usr/bin/time"

// outcome is one finished invocation of a tool.
type outcome struct {
	Wall  time.Duration
	RSSKB int64 // peak resident set size; 0 when not measured
	Code  int
}

// invocation is a command to time.
type invocation struct {
	Args []string
	Env  []string // added to the driver's environment
	Dir  string
	Log  string // stdout and stderr go here
	RSS  bool   // wrap in /usr/bin/time -v
}

// measure runs inv and returns its wall time (and peak RSS when asked).
func measure(ctx context.Context, inv invocation) (outcome, error) {
	args := inv.Args
	var timeOut *os.File
	if inv.RSS {
		f, err := os.CreateTemp("", "kmsctl-bench-time-*")
		if err != nil {
			return outcome{}, fmt.Errorf("time report: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		timeOut = f
		args = append([]string{timeBin, "-v", "-o", f.Name()}, args...)
	}
	logf, err := os.Create(inv.Log)
	if err != nil {
		return outcome{}, fmt.Errorf("log: %w", err)
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), inv.Env...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = inv.Dir, logf, logf
	start := time.Now()
	err = cmd.Run()
	r := outcome{Wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		return r, fmt.Errorf("%s: %w", args[0], err)
	}
	if timeOut != nil {
		report, err := os.ReadFile(timeOut.Name())
		if err != nil {
			return r, fmt.Errorf("time report: %w", err)
		}
		if r.RSSKB, err = maxRSS(report); err != nil {
			return r, err
		}
	}
	return r, nil
}

// maxRSS reads "Maximum resident set size (kbytes): N" from a time -v report.
func maxRSS(report []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(report))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Maximum resident set size (kbytes):")
		if ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("time report: %q: %w", v, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("time report has no maximum resident set size")
}
