package labtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fault runs `lab fault` (or heal) and fails the test on error.
func (l *lab) fault(verb string, args ...string) {
	l.t.Helper()
	if out, err := l.labCmd(nil, append([]string{verb}, args...)...); err != nil {
		l.t.Fatalf("lab %s %v: %v\n%s", verb, args, err, out)
	}
}

// TestKnobFaults drives each stand-in fault knob through `lab fault` and a restart.
func TestKnobFaults(t *testing.T) {
	l := needLab(t)
	node := l.last()
	cases := []struct {
		kind  string
		args  []string
		check func(t *testing.T, l *lab, since time.Time, restarts int)
	}{
		{"fail-start", nil, func(t *testing.T, l *lab, since time.Time, _ int) {
			eventually(t, 15*time.Second, "journal naming fail-start", func() bool { return strings.Contains(l.journal(node, since), "fail-start") })
			if l.readyCode(node) == http.StatusOK {
				t.Error("ready despite fail-start")
			}
		}},
		{"slow-start", []string{"4"}, func(t *testing.T, l *lab, since time.Time, _ int) {
			time.Sleep(time.Second)
			if a, _, _ := l.unit(node); a != "active" || l.readyCode(node) == http.StatusOK {
				t.Errorf("1s after start: unit %s, ready %d; want active and not ready", a, l.readyCode(node))
			}
			eventually(t, 20*time.Second, "ready after the slow start", func() bool { return l.readyCode(node) == http.StatusOK })
			if time.Since(since) < 4*time.Second {
				t.Errorf("ready after %s, want at least 4s", time.Since(since))
			}
		}},
		{"crash-after", []string{"2"}, func(t *testing.T, l *lab, _ time.Time, restarts int) {
			eventually(t, 20*time.Second, "systemd restarting the crashed stand-in", func() bool {
				_, _, r := l.unit(node)
				n, _ := strconv.Atoi(r)
				return n > restarts
			})
		}},
		{"hang-on-stop", nil, func(t *testing.T, l *lab, _ time.Time, _ int) {
			// The stand-in ignores SIGTERM once it serves; wait for that.
			eventually(t, 20*time.Second, "ready", func() bool { return l.readyCode(node) == http.StatusOK })
			l.mustExec(node, "systemctl", "stop", "--no-block", "minkms")
			time.Sleep(3 * time.Second)
			if a, _, _ := l.unit(node); a != "deactivating" {
				t.Errorf("3s after stop the unit is %s, want deactivating (hanging)", a)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			l := &lab{t: t, dir: l.dir, state: l.state, env: l.env}
			l.guardNode(node)
			l.fault("fault", append([]string{node, c.kind}, c.args...)...)
			if out := l.mustExec(node, "ls", "/etc/minkms-lab/faults/"); !strings.Contains(out, c.kind) {
				t.Fatalf("knob %s not in faults dir: %q", c.kind, out)
			}
			_, _, r := l.unit(node)
			restarts, _ := strconv.Atoi(r)
			since := l.restart(node)
			c.check(t, l, since, restarts)
		})
	}
}

// vaultHealth returns the HTTP status of Vault's sys/health seen from the host
// (0: no answer) or, with node set, from inside that node.
func (l *lab) vaultHealth(node string) int {
	if node != "" {
		out, _ := l.exec(node, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "3", l.env["VAULT_ADDR"]+"/v1/sys/health")
		code, _ := strconv.Atoi(strings.TrimSpace(out))
		return code
	}
	pem, _ := os.ReadFile(l.dir.CACert())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.env["VAULT_ADDR"]+"/v1/sys/health", nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestVaultFaults: `lab fault vault stop|seal` and heal, seen through sys/health.
func TestVaultFaults(t *testing.T) {
	l := needLab(t)
	cases := []struct {
		kind string
		want int
	}{{"stop", 0}, {"seal", http.StatusServiceUnavailable}}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			t.Cleanup(func() { _, _ = l.labCmd(nil, "heal", "vault") })
			l.fault("fault", "vault", c.kind)
			if got := l.vaultHealth(""); got != c.want {
				t.Errorf("after vault %s: sys/health %d, want %d", c.kind, got, c.want)
			}
			l.fault("heal", "vault", c.kind)
			if got := l.vaultHealth(""); got != http.StatusOK {
				t.Errorf("after heal: sys/health %d, want 200", got)
			}
		})
	}
}

// TestCutoffVault: only the faulted node loses Vault, and heal restores it.
func TestCutoffVault(t *testing.T) {
	l := needLab(t)
	if len(l.state.Nodes) < 2 {
		t.Skip("needs two nodes")
	}
	victim, other := l.last(), l.state.Nodes[0].Name
	t.Cleanup(func() { _, _ = l.labCmd(nil, "heal", victim, "cutoff-vault") })
	l.fault("fault", victim, "cutoff-vault")
	if got := l.vaultHealth(victim); got != 0 {
		t.Errorf("%s reaches Vault (%d) despite cutoff-vault", victim, got)
	}
	if got := l.vaultHealth(other); got != http.StatusOK {
		t.Errorf("%s cannot reach Vault: %d", other, got)
	}
	if l.readyCode(victim) != http.StatusOK {
		t.Errorf("%s API unreachable: cutoff-vault must only drop Vault traffic", victim)
	}
	l.fault("heal", victim, "cutoff-vault")
	if got := l.vaultHealth(victim); got != http.StatusOK {
		t.Errorf("%s after heal: %d", victim, got)
	}
}

// flip is the other of two values.
func flip(v, a, b string) string {
	if v == a {
		return b
	}
	return a
}

// TestLabSettingFaults: split-rule, vault-block and the variant kinds
// (hsm-names, unseal, restart-recreates-removed) edit lab.yaml on the chosen
// nodes ("all" for every node) and heal restores the defaults, for variant
// kinds the lab's own value (env.sh).
func TestLabSettingFaults(t *testing.T) {
	l := needLab(t)
	cases := []struct {
		target string
		args   []string
		want   string
		heal   string
	}{
		{"all", []string{"split-rule"}, "internode_rule: primary", "internode_rule: shared"},
		{l.last(), []string{"vault-block", "hsm.vault"}, "vault_block: hsm.vault", "vault_block: hsm.hashicorp.vault"},
		{"all", []string{"hsm-names", flip(l.env["LAB_HSM_NAMES"], "legacy", "product")},
			"hsm_names: " + flip(l.env["LAB_HSM_NAMES"], "legacy", "product"), "hsm_names: " + l.env["LAB_HSM_NAMES"]},
		{l.last(), []string{"unseal", flip(l.env["LAB_UNSEAL"], "all", "any")},
			"unseal: " + flip(l.env["LAB_UNSEAL"], "all", "any"), "unseal: " + l.env["LAB_UNSEAL"]},
		{l.last(), []string{"restart-recreates-removed", flip(l.env["LAB_RESTART_RECREATES_REMOVED"], "false", "true")},
			"restart_recreates_removed: " + flip(l.env["LAB_RESTART_RECREATES_REMOVED"], "false", "true"),
			"restart_recreates_removed: " + l.env["LAB_RESTART_RECREATES_REMOVED"]},
	}
	for _, c := range cases {
		t.Run(c.args[0], func(t *testing.T) {
			t.Cleanup(func() { _, _ = l.labCmd(nil, "heal", c.target, c.args[0]) })
			l.fault("fault", append([]string{c.target}, c.args...)...)
			for _, n := range l.state.Nodes {
				got := l.mustExec(n.Name, "cat", "/etc/minkms-lab/lab.yaml")
				if affected := c.target == "all" || c.target == n.Name; strings.Contains(got, c.want) != affected {
					t.Errorf("%s lab.yaml after fault on %s:\n%s", n.Name, c.target, got)
				}
			}
			l.fault("heal", c.target, c.args[0])
			for _, n := range l.state.Nodes {
				if got := l.mustExec(n.Name, "cat", "/etc/minkms-lab/lab.yaml"); !strings.Contains(got, c.heal) {
					t.Errorf("%s lab.yaml after heal:\n%s", n.Name, got)
				}
			}
		})
	}
}
