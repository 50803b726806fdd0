package vaultcheck

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatusText(t *testing.T) {
	for _, s := range []Status{Pass, Fail, Skip, Warn} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%v: round trip gave %v, %v", s, back, err)
		}
	}
	var s Status
	if err := s.UnmarshalText([]byte("maybe")); err == nil {
		t.Fatal("unknown status accepted")
	}
}

func TestPassed(t *testing.T) {
	tests := []struct {
		name   string
		checks []Status
		want   bool
	}{
		{"empty", nil, true},
		{"pass and skip", []Status{Pass, Skip, Pass}, true},
		{"one fail", []Status{Pass, Fail, Skip}, false},
		{"warn does not fail", []Status{Pass, Warn, Skip}, true},
		{"warn and fail", []Status{Warn, Fail}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Schema: Schema}
			for _, s := range tt.checks {
				r.add(Check{ID: "x", Status: s})
			}
			if r.Passed() != tt.want || (len(r.Failed()) == 0) != tt.want {
				t.Fatalf("Passed() = %v, Failed() = %v; want %v", r.Passed(), r.Failed(), tt.want)
			}
			total := 0
			for _, s := range statuses {
				total += r.Count(s)
			}
			if total != len(tt.checks) || r.Count(Fail) != len(r.Failed()) {
				t.Fatalf("Count: total %d of %d checks, %d fail vs Failed() %d", total, len(tt.checks), r.Count(Fail), len(r.Failed()))
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	r := &Report{Schema: Schema, Checks: []Check{{ID: "vault.login", Title: "t", Status: Fail, Message: "m", Fix: "f", Details: map[string]string{"k": "v"}}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"kmsctl.vault-check/v1","checks":[{"id":"vault.login","title":"t","status":"fail","message":"m","fix":"f","details":{"k":"v"}}]}`
	if string(b) != want {
		t.Fatalf("JSON = %s\nwant   %s", b, want)
	}
}

func TestRedact(t *testing.T) {
	r := &Report{Checks: []Check{{Title: "a s3cr3t-id", Message: "x s3cr3t-id y", Fix: "s3cr3t-id", Details: map[string]string{"k": "s3cr3t-id"}}}}
	r.redact([]string{"s3cr3t-id", ""})
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "s3cr3t") || !strings.Contains(string(b), "[redacted]") {
		t.Fatalf("redact left %s", b)
	}
}

func TestPolicyStanza(t *testing.T) {
	want := "path \"transit/hmac/minkms-sealing-key\" {\n  capabilities = [\"update\"]\n}"
	if got := PolicyStanza("transit/hmac/minkms-sealing-key"); got != want {
		t.Fatalf("PolicyStanza = %q, want %q", got, want)
	}
}
