package standin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Faults are the per-node fault knobs the lab switches on by creating files
// in the faults directory, so that kmsctl's rollout can be tested against a
// node that fails, starts slowly, crashes or hangs.
type Faults struct {
	FailStart bool // exit 1 at start
	// FailWithVault narrows FailStart (file content "vault") to starts whose
	// config has a Vault block: a node that "fails after its stage-1 edit"
	// and starts again once the edit is undone, as kmsctl's restore expects.
	FailWithVault bool
	SlowStart     time.Duration // time from start until ready
	CrashAfter    time.Duration // exit 2 this long after start; 0: never
	HangOnStop    bool          // ignore SIGTERM
}

// ReadFaults reads the knobs in dir; a missing dir means no faults.
func ReadFaults(dir string) (Faults, error) {
	var f Faults
	var err error
	if f.FailStart, err = exists(filepath.Join(dir, "fail-start")); err != nil {
		return f, err
	}
	if f.FailStart {
		data, err := os.ReadFile(filepath.Join(dir, "fail-start"))
		if err != nil {
			return f, fmt.Errorf("fault knob: %w", err)
		}
		f.FailWithVault = strings.TrimSpace(string(data)) == "vault"
	}
	if f.HangOnStop, err = exists(filepath.Join(dir, "hang-on-stop")); err != nil {
		return f, err
	}
	if f.SlowStart, err = seconds(filepath.Join(dir, "slow-start")); err != nil {
		return f, err
	}
	if f.CrashAfter, err = seconds(filepath.Join(dir, "crash-after")); err != nil {
		return f, err
	}
	return f, nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("fault knob: %w", err)
	}
}

// seconds reads a knob whose content is a number of seconds; absent is 0.
func seconds(path string) (time.Duration, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fault knob: %w", err)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("fault knob %s: want a number of seconds, got %q", path, strings.TrimSpace(string(data)))
	}
	return time.Duration(n * float64(time.Second)), nil
}
