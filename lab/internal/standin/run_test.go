package standin

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"aead.dev/mtls"
)

func TestParseArgs(t *testing.T) {
	env := func(k string) string { return map[string]string{SettingsEnv: "/tmp/lab.yaml"}[k] }
	tests := []struct {
		name string
		args []string
		want serverArgs
		ok   bool
	}{
		{"documented", []string{"server", "/var/lib/minkms", "--host", "10.213.0.11:7373", "--config", "/etc/minkms/config.yaml"},
			serverArgs{"/var/lib/minkms", "10.213.0.11:7373", "/etc/minkms/config.yaml", "/tmp/lab.yaml"}, true},
		{"flags first, = form, settings flag", []string{"server", "--host=h:1", "--config", "c", "--lab-settings", "s", "v"},
			serverArgs{"v", "h:1", "c", "s"}, true},
		{"volume unset ($MINIO_KMS_VOLUME empty)", []string{"server", "--host", "h:1", "--config", "c"}, serverArgs{}, false},
		{"no config", []string{"server", "v", "--host", "h:1"}, serverArgs{}, false},
		{"two volumes", []string{"server", "v", "w", "--host", "h:1", "--config", "c"}, serverArgs{}, false},
		{"unknown flag", []string{"server", "v", "--host", "h:1", "--config", "c", "--debug"}, serverArgs{}, false},
		{"no subcommand", []string{"v"}, serverArgs{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args, env)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// singleNode is a one-node cluster (it elects itself) with a local key.
func singleNode(t *testing.T, hsmBlock string) *testNode {
	t.Helper()
	p := newTestPKI(t)
	admin, err := mtls.GenerateKeyEdDSA(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newTestNode(t, 1, freePorts(t, 1), RuleShared, baseConfig(p, admin.Identity().String())+hsmBlock, newLocalKey(t))
}

// readyCode is the node's /v1/health/ready status code, 0 when unreachable.
func (n *testNode) readyCode(t *testing.T) int {
	t.Helper()
	cfg, err := LoadConfig(n.Config, VaultBlockHashicorp)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(cfg.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + n.Host + "/v1/health/ready")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRunFailedStarts(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, n *testNode)
		log     string
	}{
		{"fail-start knob", func(t *testing.T, n *testNode) { n.fault(t, "fail-start", "") }, "fail-start is set"},
		{"unknown config key", func(t *testing.T, n *testNode) { appendFile(t, n.Config, "hsm:\n  vault:\n    server: x\n") },
			`config.yaml: line 11: unknown key "hsm.vault" (this node reads its Vault block at hsm.hashicorp.vault)`},
		{"missing lab settings", func(t *testing.T, n *testNode) { os.Remove(n.Lab) }, "read lab settings"},
		{"bad fault knob", func(t *testing.T, n *testNode) { n.fault(t, "crash-after", "later") }, "want a number of seconds"},
		{"no HSM", func(t *testing.T, n *testNode) { delete(n.Env, LocalKeyEnv) },
			"minkms: cannot unseal: no HSM configured: MINIO_KMS_HSM_KEY is not set"},
		{"malformed local key", func(t *testing.T, n *testNode) { n.Env[LocalKeyEnv] = "hsm:aes256:short" },
			"minkms: cannot unseal: MINIO_KMS_HSM_KEY: the key must be 32 bytes"},
		{"wrong local key", func(t *testing.T, n *testNode) {
			local := mustLocal(t, newLocalKey(t))
			if _, err := Unseal(t.Context(), n.Volume, []HSM{local}, discard); err != nil {
				t.Fatal(err)
			}
		}, "minkms: cannot unseal: no configured HSM can unseal the root encryption key (entries: local): local: wrong key"},
		{"port taken", func(t *testing.T, n *testNode) {
			ln, err := netListen(n.Host)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}, "listen:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := singleNode(t, "")
			tt.prepare(t, n)
			r := n.run(t)
			if code := r.exitCode(t, 5*time.Second); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(n.Log.String(), tt.log) {
				t.Errorf("log does not contain %q:\n%s", tt.log, n.Log)
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(s)
}

func TestRunStartsAndStops(t *testing.T) {
	n := singleNode(t, "")
	r := n.run(t)
	eventually(t, 4*time.Second, "ready", func() (bool, string) { return n.readyCode(t) == 200, "" })
	if !strings.Contains(n.Log.String(), "minkms: unsealed with local\n") {
		t.Errorf("log:\n%s", n.Log)
	}
	if _, err := os.Stat(filepath.Join(n.Volume, "rek.json")); err != nil {
		t.Error(err)
	}
	r.signals <- syscall.SIGTERM
	if code := r.exitCode(t, 3*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d", code)
	}
}

func TestRunFaultKnobs(t *testing.T) {
	t.Parallel()
	t.Run("crash-after", func(t *testing.T) {
		n := singleNode(t, "")
		n.fault(t, "crash-after", "0.5")
		begin := time.Now()
		r := n.run(t)
		if code := r.exitCode(t, 3*time.Second); code != 2 {
			t.Fatalf("exit code %d, want 2", code)
		}
		if d := time.Since(begin); d < 500*time.Millisecond {
			t.Errorf("crashed after %s", d)
		}
	})
	t.Run("hang-on-stop", func(t *testing.T) {
		n := singleNode(t, "")
		n.fault(t, "hang-on-stop", "")
		r := n.run(t)
		eventually(t, 4*time.Second, "serving", func() (bool, string) { return n.readyCode(t) != 0, "" })
		r.signals <- syscall.SIGTERM
		select {
		case code := <-r.done:
			r.done <- code
			t.Fatalf("stopped on SIGTERM with %d", code)
		case <-time.After(500 * time.Millisecond):
		}
		if !strings.Contains(n.Log.String(), "hang-on-stop: ignoring terminated") {
			t.Errorf("log:\n%s", n.Log)
		}
	})
	t.Run("slow-start", func(t *testing.T) {
		n := singleNode(t, "")
		n.fault(t, "slow-start", "2")
		begin := time.Now()
		n.run(t)
		eventually(t, 2*time.Second, "serving but not ready", func() (bool, string) { return n.readyCode(t) == 503, "" })
		eventually(t, 5*time.Second, "ready", func() (bool, string) { return n.readyCode(t) == 200, "" })
		if d := time.Since(begin); d < 2*time.Second {
			t.Errorf("ready after %s despite slow-start 2", d)
		}
	})
}

func TestRunWithVault(t *testing.T) {
	v := newFakeVault(t)
	n := singleNode(t, "")
	if code := startStop(t, n); code != 0 {
		t.Fatalf("local only: exit %d", code)
	}
	appendFile(t, n.Config, vaultBlock(v.URL, "transit"))
	if code := startStop(t, n); code != 0 {
		t.Fatalf("local + vault: exit %d", code)
	}
	s, _, _ := LoadSealed(n.Volume)
	if strings.Join(s.Names(), ",") != "local,vault:transit/minkms-sealing-key" {
		t.Fatalf("entries: %v", s.Names())
	}
	delete(n.Env, LocalKeyEnv)
	n.Log = &syncBuffer{}
	if code := startStop(t, n); code != 0 || !strings.Contains(n.Log.String(), "minkms: unsealed with vault:transit/minkms-sealing-key\n") {
		t.Fatalf("vault only: exit %d, log:\n%s", code, n.Log)
	}
	v.denyHMAC()
	n.Log = &syncBuffer{}
	r := n.run(t)
	if code := r.exitCode(t, 3*time.Second); code != 1 || !strings.Contains(n.Log.String(), "minkms: cannot unseal: vault:transit/minkms-sealing-key: hmac") {
		t.Fatalf("no hmac: exit %d, log:\n%s", code, n.Log)
	}
}

// startStop runs the node until it serves, then stops it with SIGTERM.
func startStop(t *testing.T, n *testNode) int {
	t.Helper()
	r := n.run(t)
	deadline := time.Now().Add(3 * time.Second)
	for n.readyCode(t) == 0 && time.Now().Before(deadline) {
		select {
		case code := <-r.done:
			r.done <- code
			t.Logf("log:\n%s", n.Log)
			return code
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.signals <- syscall.SIGTERM
	return r.exitCode(t, 3*time.Second)
}
