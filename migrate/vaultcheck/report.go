// Package vaultcheck proves, before anything on a node changes, that the Vault
// identity the key manager nodes will use works: Vault is reachable and
// unsealed, the login succeeds, the policy grants the three transit paths, a
// live encrypt/decrypt/HMAC round trip works, and every node reaches Vault.
// Each step is a Check with a message that says what to fix; nothing secret
// (secret id, JWT, token, ciphertext, HMAC) ever appears in a Check.
package vaultcheck

import (
	"fmt"
	"strings"
)

// Schema versions the JSON form of a Report, so scripts can detect changes.
const Schema = "kmsctl.vault-check/v1"

// Status is the outcome of one check.
type Status int

// The outcomes. Skip means the check could not run (a prerequisite failed
// or it was not asked for). Warn means it ran and found something the
// operator should know that does not stop the nodes from working, such as a
// namespace that open-source Vault ignores. Only Fail makes a Report fail.
// The values never change meaning; new ones are added at the end.
const (
	Pass Status = iota
	Fail
	Skip
	Warn
)

// statuses lists every Status, for parsing.
var statuses = []Status{Pass, Fail, Skip, Warn}

// String returns "pass", "fail", "skip" or "warn", the spelling used in JSON and tables.
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	case Warn:
		return "warn"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText makes a Status appear as its name in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the JSON form back, so tests and tools can round-trip a Report.
func (s *Status) UnmarshalText(b []byte) error {
	for _, v := range statuses {
		if strings.EqualFold(string(b), v.String()) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("preflight: unknown status %q", b)
}

// Check is the result of one step.
type Check struct {
	// ID is stable across releases (e.g. "vault.login"), for scripts.
	ID string `json:"id"`
	// Title says what was checked, e.g. "update on transit/hmac/minkms-sealing-key".
	Title string `json:"title"`
	// Node is the inventory name for checks run from a node, "" for the operator.
	Node string `json:"node,omitempty"`
	// Status is the outcome.
	Status Status `json:"status"`
	// Message explains the outcome; for a failure, what is wrong and where.
	Message string `json:"message"`
	// Fix is what to change, e.g. the policy stanza to add; empty when nothing to do.
	Fix string `json:"fix,omitempty"`
	// Details are facts worth showing (version, policies, TTL, key type).
	Details map[string]string `json:"details,omitempty"`
}

// Report is the ordered list of checks of one run.
type Report struct {
	Schema string  `json:"schema"`
	Checks []Check `json:"checks"`
}

// Passed reports whether no check failed; kmsctl exits 0 only then.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Count returns how many checks have status s, for the summary line.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Failed returns the failed checks, for a short summary.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// add appends a check.
func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// redact replaces every occurrence of the given secrets in every field of
// every check: a last line of defence should Vault ever echo one back.
func (r *Report) redact(secrets []string) {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return
	}
	rep := strings.NewReplacer(pairs...)
	for i := range r.Checks {
		c := &r.Checks[i]
		c.Title, c.Message, c.Fix = rep.Replace(c.Title), rep.Replace(c.Message), rep.Replace(c.Fix)
		for k, v := range c.Details {
			c.Details[k] = rep.Replace(v)
		}
	}
}

// PolicyStanza is the HCL that grants update on path, printed as the Fix of
// a missing capability so the operator can paste it into the policy.
func PolicyStanza(path string) string {
	return fmt.Sprintf("path %q {\n  capabilities = [\"update\"]\n}", path)
}
