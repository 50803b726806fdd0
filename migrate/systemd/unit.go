// Package systemd reads and drives a node's key manager unit through
// remote.Node: its state from `systemctl show`, a bounded restart and the
// journal. The rollout's gates and `kmsctl status` both read units here, so
// they parse systemd's answer the same way.
package systemd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/remote"
)

// UnitState is the part of `systemctl show` a health gate needs. A restart's
// exit status proves nothing for a Type=simple unit (systemd answers before
// the daemon has had a chance to crash), so gates poll these fields instead.
type UnitState struct {
	ActiveState string    `json:"active_state"`
	SubState    string    `json:"sub_state"`
	Result      string    `json:"result,omitempty"`
	NRestarts   int       `json:"restarts"`
	MainPID     int       `json:"main_pid"`
	Since       time.Time `json:"since,omitempty"`
}

// unitProperties are read in one call; systemd prints them in its own order,
// so ParseShow reads KEY=VALUE lines and never relies on position.
const unitProperties = "ActiveState,SubState,Result,NRestarts,MainPID,StateChangeTimestamp"

// Running reports whether the unit is up with a live main process.
func (u UnitState) Running() bool {
	return u.ActiveState == "active" && u.SubState == "running" && u.MainPID > 0
}

// String is the short form shown to operators, e.g. "active (running)".
func (u UnitState) String() string {
	if u.SubState == "" {
		return u.ActiveState
	}
	return u.ActiveState + " (" + u.SubState + ")"
}

// ParseShow parses the KEY=VALUE output of `systemctl show -p ...`.
func ParseShow(out []byte) UnitState {
	var u UnitState
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "ActiveState":
			u.ActiveState = v
		case "SubState":
			u.SubState = v
		case "Result":
			u.Result = v
		case "NRestarts":
			u.NRestarts, _ = strconv.Atoi(v)
		case "MainPID":
			u.MainPID, _ = strconv.Atoi(v)
		case "StateChangeTimestamp":
			u.Since = parseSystemdTime(v)
		}
	}
	return u
}

// parseSystemdTime reads systemd's "Fri 2026-11-27 07:14:02 UTC" form.
func parseSystemdTime(v string) time.Time {
	if v == "" || v == "n/a" {
		return time.Time{}
	}
	for _, layout := range []string{"Mon 2006-01-02 15:04:05 MST", "Mon 2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ReadUnit reads the unit's state on a node.
func ReadUnit(ctx context.Context, n remote.Node, unit string) (UnitState, error) {
	res, err := n.Run(ctx, remote.Command{Args: []string{"systemctl", "show", "-p", unitProperties, "--", unitName(unit)}})
	if err != nil {
		return UnitState{}, fmt.Errorf("node %s: systemctl show %s: %w", n.Name(), unit, err)
	}
	if res.ExitCode != 0 {
		return UnitState{}, fmt.Errorf("node %s: systemctl show %s: exit %d: %s", n.Name(), unit, res.ExitCode, res.StderrLine())
	}
	return ParseShow(res.Stdout), nil
}

// ErrRestartTimeout marks a restart that did not finish in time. The
// documented unit has TimeoutStopSec=infinity and SendSIGKILL=no, so a key
// manager that ignores SIGTERM would otherwise block the run forever.
var ErrRestartTimeout = fmt.Errorf("restart did not finish in time")

// RestartUnit runs `systemctl reset-failed` and `systemctl restart` as root,
// bounded by timeout. reset-failed clears systemd's start rate limit: a unit
// that crash-looped (Restart=always) after a bad edit is "failed" with
// start-limit-hit, and a plain restart of it, the restore, would be refused.
// On timeout the queued job is cancelled so the unit is not left
// half-stopped, and an error wrapping ErrRestartTimeout is returned.
func RestartUnit(ctx context.Context, n remote.Node, unit string, timeout time.Duration) error {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := n.Run(rctx, remote.Command{Args: []string{"sh", "-c", `systemctl reset-failed -- "$1" 2>/dev/null; exec systemctl restart -- "$1"`, "sh", unitName(unit)}, Sudo: true})
	if err != nil && rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		cancelJobs(ctx, n, unit)
		return fmt.Errorf("node %s: restart %s: %w after %s (does the key manager ignore SIGTERM? the unit has TimeoutStopSec=infinity)", n.Name(), unit, ErrRestartTimeout, timeout)
	}
	if err != nil {
		return fmt.Errorf("node %s: restart %s: %w", n.Name(), unit, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("node %s: restart %s: exit %d: %s", n.Name(), unit, res.ExitCode, res.StderrLine())
	}
	return nil
}

// cancelJobs cancels systemd jobs still queued for the unit; best effort.
func cancelJobs(ctx context.Context, n remote.Node, unit string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	res, err := n.Run(cctx, remote.Command{Args: []string{"systemctl", "list-jobs", "--no-legend", "--plain"}, Sudo: true})
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == unitName(unit) {
			_, _ = n.Run(cctx, remote.Command{Args: []string{"systemctl", "cancel", "--", f[0]}, Sudo: true})
		}
	}
}

// Journal returns the unit's last lines of log, for failure reports.
func Journal(ctx context.Context, n remote.Node, unit string, lines int) string {
	res, err := n.Run(ctx, remote.Command{Args: []string{"journalctl", "-u", unitName(unit), "-n", strconv.Itoa(lines), "--no-pager", "-o", "short-iso"}, Sudo: true})
	if err != nil {
		return "(journal unavailable: " + err.Error() + ")"
	}
	return strings.TrimRight(string(res.Stdout), "\n")
}

func unitName(unit string) string {
	if strings.Contains(unit, ".") {
		return unit
	}
	return unit + ".service"
}
