package main

import (
	"testing"
	"time"
)

// journal is a minkms journal as `journalctl -o short-iso-precise` prints it
// on systemd 252: two restarts, the second of a node that won the election.
const journal = `2026-11-27T08:00:00.000000+00:00 kms-2 minkms[10]: minkms: cluster: following leader 1 (term 1)
2026-11-27T08:00:10.000000+00:00 kms-2 systemd[1]: Stopping minkms.service - AIStor Key Manager...
2026-11-27T08:00:10.100000+00:00 kms-2 minkms[10]: minkms: stopping on terminated
2026-11-27T08:00:10.200000+00:00 kms-2 systemd[1]: Stopped minkms.service - AIStor Key Manager.
2026-11-27T08:00:10.250000+00:00 kms-2 systemd[1]: Started minkms.service - AIStor Key Manager.
2026-11-27T08:00:10.900000+00:00 kms-2 minkms[20]: minkms: unsealed with local
2026-11-27T08:00:11.000000+00:00 kms-2 minkms[20]: minkms: serving https://10.213.0.12:7373 (node 2, shared)
2026-11-27T08:00:11.300000+00:00 kms-2 minkms[20]: minkms: cluster: following leader 1 (term 1)
2026-11-27T08:00:20.000000+00:00 kms-2 systemd[1]: Stopping minkms.service - AIStor Key Manager...
2026-11-27T08:00:20.300000+00:00 kms-2 systemd[1]: Started minkms.service - AIStor Key Manager.
2026-11-27T08:00:22.000000+00:00 kms-2 minkms[30]: minkms: cluster: elected leader (term 2, 2 of 3 votes)
-- Boot 0123 --
`

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRestartSteps(t *testing.T) {
	evs := parseJournal(journal)
	tests := []struct {
		name     string
		from, to time.Time
		want     []time.Duration
	}{
		{"both restarts", at("2026-11-27T08:00:05Z"), at("2026-11-27T08:01:00Z"), []time.Duration{1300 * time.Millisecond, 2 * time.Second}},
		{"window starts after the first stop", at("2026-11-27T08:00:10.5Z"), at("2026-11-27T08:01:00Z"), []time.Duration{2 * time.Second}},
		{"not ready before the window ends", at("2026-11-27T08:00:15Z"), at("2026-11-27T08:00:21Z"), []time.Duration{time.Second}},
		{"nothing in the window", at("2026-11-27T08:00:30Z"), at("2026-11-27T08:01:00Z"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := restartSteps(evs, tt.from, tt.to)
			if len(got) != len(tt.want) {
				t.Fatalf("steps %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("step %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		line string
		want eventKind
	}{
		{"kms-1 systemd[1]: Stopping minkms.service - AIStor Key Manager...", evStopping},
		{"kms-1 systemd[1]: Started minkms.service - AIStor Key Manager.", evStarted},
		{"kms-1 systemd[1]: Stopped minkms.service - AIStor Key Manager.", evOther},
		{"kms-1 minkms[5]: minkms: cluster: following leader 3 (term 9)", evReady},
		{"kms-1 minkms[5]: minkms: cluster: elected leader (term 2, 2 of 3 votes)", evReady},
		{"kms-1 minkms[5]: minkms: cluster: node 3 (10.213.0.13:7373) is up", evOther},
		{"no colon here", evOther},
	}
	for _, tt := range tests {
		if got := classify(tt.line); got != tt.want {
			t.Errorf("classify(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestFloorOfSumsNodes(t *testing.T) {
	j := map[string]string{"kms-1": journal, "kms-2": journal}
	floor, steps := floorOf(j, at("2026-11-27T08:00:05Z"), at("2026-11-27T08:01:00Z"))
	if floor != 2*(3300*time.Millisecond) || steps != 4 {
		t.Fatalf("floor %v over %d steps, want 6.6s over 4", floor, steps)
	}
}
