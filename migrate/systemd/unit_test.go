package systemd

import (
	"testing"
	"time"
)

func TestParseShow(t *testing.T) {
	// systemd prints properties in its own order, not the order asked.
	out := []byte("MainPID=4242\nNRestarts=3\nResult=success\nActiveState=active\nSubState=running\nStateChangeTimestamp=Fri 2026-11-27 07:14:02 UTC\nJunk line\n")
	u := ParseShow(out)
	if u.ActiveState != "active" || u.SubState != "running" || u.NRestarts != 3 || u.MainPID != 4242 || u.Result != "success" {
		t.Fatalf("ParseShow = %+v", u)
	}
	if !u.Since.Equal(time.Date(2026, 11, 27, 7, 14, 2, 0, time.UTC)) {
		t.Fatalf("Since = %v", u.Since)
	}
	if !u.Running() || u.String() != "active (running)" {
		t.Fatalf("Running/String wrong: %v %q", u.Running(), u.String())
	}
	crash := ParseShow([]byte("ActiveState=activating\nSubState=auto-restart\nMainPID=0\n"))
	if crash.Running() {
		t.Fatal("auto-restart must not count as running")
	}
}

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{"minkms": "minkms.service", "minkms.service": "minkms.service", "kms@a.service": "kms@a.service"} {
		if got := unitName(in); got != want {
			t.Errorf("unitName(%q) = %q, want %q", in, got, want)
		}
	}
}
