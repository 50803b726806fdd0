package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realVault is a Vault dev server started by the test on a loopback port.
type realVault struct {
	addr, token string
}

// startRealVault runs the lab's cached Vault build; the test is skipped
// when it has not been built yet.
func startRealVault(t *testing.T) *realVault {
	t.Helper()
	dir := os.Getenv("KMSCTL_LAB_CACHE")
	if dir == "" {
		dir = "/var/cache/kmsctl-lab"
	}
	bin := filepath.Join(dir, "vault-v1.21.1")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Vault build at %s", bin)
	}
	v := &realVault{addr: "http://" + freePorts(t, 1)[0], token: "root-" + fmt.Sprint(time.Now().UnixNano())}
	var out bytes.Buffer
	cmd := exec.Command(bin, "server", "-dev", "-dev-no-store-token",
		"-dev-listen-address="+strings.TrimPrefix(v.addr, "http://"), "-dev-root-token-id="+v.token)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, 30*time.Second, "vault dev server up", func() (bool, string) {
		resp, err := http.Get(v.addr + "/v1/sys/health")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return v
}

// do calls the Vault API with the root token and decodes data into out.
func (v *realVault) do(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, v.addr+"/v1/"+path, body)
	req.Header.Set("X-Vault-Token", v.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// approle creates role name with policy and returns its role id and a secret id.
func (v *realVault) approle(t *testing.T, name, policy string) (id, secret string) {
	t.Helper()
	v.do(t, "POST", "auth/approle/role/"+name, map[string]any{"token_policies": []string{policy}}, nil)
	var r struct{ Data map[string]any }
	v.do(t, "GET", "auth/approle/role/"+name+"/role-id", nil, &r)
	id, _ = r.Data["role_id"].(string)
	v.do(t, "POST", "auth/approle/role/"+name+"/secret-id", nil, &r)
	secret, _ = r.Data["secret_id"].(string)
	return id, secret
}

func (v *realVault) setup(t *testing.T) (full, noHMAC [2]string) {
	t.Helper()
	v.do(t, "POST", "sys/mounts/transit", map[string]string{"type": "transit"}, nil)
	v.do(t, "POST", "transit/keys/minkms-sealing-key", map[string]string{"type": "aes256-gcm96"}, nil)
	rule := func(op string) string {
		return fmt.Sprintf("path \"transit/%s/minkms-sealing-key\" {\n  capabilities = [\"update\"]\n}\n", op)
	}
	v.do(t, "PUT", "sys/policies/acl/minkms", map[string]string{"policy": rule("encrypt") + rule("decrypt") + rule("hmac")}, nil)
	v.do(t, "PUT", "sys/policies/acl/minkms-nohmac", map[string]string{"policy": rule("encrypt") + rule("decrypt")}, nil)
	v.do(t, "POST", "sys/auth/approle", map[string]string{"type": "approle"}, nil)
	full[0], full[1] = v.approle(t, "minkms", "minkms")
	noHMAC[0], noHMAC[1] = v.approle(t, "minkms-nohmac", "minkms-nohmac")
	return full, noHMAC
}

func realVaultBlock(addr string, role [2]string) string {
	return "hsm:\n  hashicorp:\n    vault:\n      server: " + addr +
		"\n      approle:\n        id: " + role[0] + "\n        secret: " + role[1] +
		"\n      transit:\n        key: minkms-sealing-key\n"
}

// TestRealVault runs the stand-in's start (settings, config, HSMs, unseal)
// against a real Vault dev server with transit and approle.
func TestRealVault(t *testing.T) {
	v := startRealVault(t)
	full, noHMAC := v.setup(t)
	n := singleNode(t, "")
	base, _ := os.ReadFile(n.Config)
	localKey := n.Env[LocalKeyEnv]
	startLog := func() (string, error) {
		var log syncBuffer
		logf := func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }
		a := serverArgs{volume: n.Volume, host: n.Host, config: n.Config, settings: n.Lab}
		_, _, err := start(context.Background(), a, n.getenv, logf)
		return log.String(), err
	}
	steps := []struct {
		name     string
		config   string
		localKey bool
		entries  string // rek.json after the step
		wantLog  string
		wantErr  string
	}{
		{"local only", "", true, "local", "unsealed with local", ""},
		{"vault added", realVaultBlock(v.addr, full), true, "local,vault:transit/minkms-sealing-key",
			"sealed the root encryption key for vault:transit/minkms-sealing-key\nunsealed with local", ""},
		{"local key removed", realVaultBlock(v.addr, full), false, "local,vault:transit/minkms-sealing-key",
			"unsealed with vault:transit/minkms-sealing-key", ""},
		{"policy without hmac", realVaultBlock(v.addr, noHMAC), false, "local,vault:transit/minkms-sealing-key",
			"", "vault:transit/minkms-sealing-key: hmac: POST " + v.addr + "/v1/transit/hmac/minkms-sealing-key: 403"},
		{"wrong secret id", realVaultBlock(v.addr, [2]string{full[0], "00000000-0000-0000-0000-000000000000"}), false,
			"local,vault:transit/minkms-sealing-key", "", "login"},
	}
	for _, s := range steps {
		writeFile(t, n.Config, string(base)+s.config)
		n.Env[LocalKeyEnv] = ""
		if s.localKey {
			n.Env[LocalKeyEnv] = localKey
		}
		log, err := startLog()
		t.Logf("%s: err=%v", s.name, err)
		if s.wantErr == "" && err != nil || s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)) {
			t.Fatalf("%s: err = %v, want %q", s.name, err, s.wantErr)
		}
		if !strings.Contains(log, s.wantLog) {
			t.Errorf("%s: log %q, want %q", s.name, log, s.wantLog)
		}
		sealed, _, _ := LoadSealed(n.Volume)
		if got := strings.Join(sealed.Names(), ","); got != s.entries {
			t.Errorf("%s: entries %s, want %s", s.name, got, s.entries)
		}
	}

	// A different transit key of the same name cannot decrypt the entry.
	v.do(t, "POST", "transit/keys/minkms-sealing-key/config", map[string]bool{"deletion_allowed": true}, nil)
	v.do(t, "DELETE", "transit/keys/minkms-sealing-key", nil, nil)
	v.do(t, "POST", "transit/keys/minkms-sealing-key", map[string]string{"type": "aes256-gcm96"}, nil)
	writeFile(t, n.Config, string(base)+realVaultBlock(v.addr, full))
	log, err := startLog()
	if err == nil || !strings.Contains(err.Error(), "no configured HSM can unseal") || !strings.Contains(log, "cannot unseal: vault:transit/minkms-sealing-key: decrypt: POST") {
		t.Fatalf("different vault key: %v\n%s", err, log)
	}
	t.Logf("different vault key: %v", err)
}
