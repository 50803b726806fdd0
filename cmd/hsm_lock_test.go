package cmd

import (
	"os"
	"testing"

	"github.com/kmsctl/kmsctl/migrate"
)

func TestOwnerDead(t *testing.T) {
	me := os.Getpid()
	start := procStart(me)
	if start == "" {
		t.Skip("no /proc")
	}
	tests := []struct {
		name  string
		owner migrate.LockInfo
		dead  bool
	}{
		{"this process", migrate.LockInfo{Operator: "h", PID: me, ProcStart: start}, false},
		{"pid gone", migrate.LockInfo{Operator: "h", PID: 1 << 30}, true},
		{"pid reused", migrate.LockInfo{Operator: "h", PID: me, ProcStart: "1"}, true},
		{"other host", migrate.LockInfo{Operator: "other", PID: 1 << 30}, false},
		{"no pid", migrate.LockInfo{Operator: "h"}, false},
	}
	for _, tt := range tests {
		if got := ownerDead("h", tt.owner); got != tt.dead {
			t.Errorf("%s: dead = %v, want %v", tt.name, got, tt.dead)
		}
	}
}
