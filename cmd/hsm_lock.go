package cmd

import (
	"os"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/migrate"
)

// ownerDead: the lock was taken on this host, and its PID is gone or now
// names a process started at another time than the lock's owner.
func ownerDead(host string, owner migrate.LockInfo) bool {
	if host == "" || owner.Operator != host || owner.PID <= 0 {
		return false
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(owner.PID)); os.IsNotExist(err) {
		return true
	}
	start := procStart(owner.PID)
	return owner.ProcStart != "" && start != "" && start != owner.ProcStart
}

// procStart is field 22 of /proc/<pid>/stat (start time in clock ticks
// since boot), "" when unreadable (not Linux).
func procStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}
