package vaultcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck/vaultchecktest"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// The fake Vault's credentials, under the names the tests use.
const (
	testRoleID   = vaultchecktest.RoleID
	testSecretID = vaultchecktest.SecretID
	testJWT      = vaultchecktest.JWT
	testToken    = vaultchecktest.Token
	testKey      = vaultchecktest.Key
)

// testNode is a node for the Vault check: the one fake node
// (remotetest), reaching every address the check dials (the fake Vault on
// loopback) unless err is set, which its DialTCP then fails with as an SSH
// channel would.
func testNode(name string, err error) *remotetest.Node {
	n := remotetest.NewNode(name)
	n.ForwardAllTCP()
	if err != nil {
		n.Fail(remotetest.Fault{Op: remotetest.OpDialTCP, Err: err})
	}
	return n
}

func noEnv(string) string { return "" }

type scenario struct {
	name   string
	setup  func(v *vaultchecktest.FakeVault, c *Config, o *Options, nodes *[]remote.Node)
	status map[string]Status // check ID (node checks: "node.vault@<name>") -> status
	msg    map[string]string // check ID -> substring of Message
	fix    map[string]string // check ID -> substring of Fix
}

func TestRunScenarios(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			v := vaultchecktest.New(t)
			cfg := Config{CACertFile: v.WriteCA(t),
				VaultSettings: configedit.VaultSettings{Server: v.URL(), AppRole: &configedit.AppRole{ID: testRoleID, Secret: testSecretID}, Transit: configedit.Transit{Key: testKey}}}
			opts := Options{Getenv: noEnv, Timeout: 3 * time.Second}
			nodes := []remote.Node{testNode("kms-1", nil), testNode("kms-2", nil)}
			if sc.setup != nil {
				sc.setup(v, &cfg, &opts, &nodes)
			}
			rep, err := Run(context.Background(), cfg, nodes, opts)
			if err != nil {
				t.Fatal(err)
			}
			assertReport(t, rep, sc)
			assertNoSecrets(t, rep)
		})
	}
}

func byKey(rep *Report) map[string]Check {
	m := map[string]Check{}
	for _, c := range rep.Checks {
		k := c.ID
		if c.Node != "" {
			k += "@" + c.Node
		}
		m[k] = c
	}
	return m
}

func assertReport(t *testing.T, rep *Report, sc scenario) {
	t.Helper()
	got := byKey(rep)
	for id, want := range sc.status {
		if c, ok := got[id]; !ok || c.Status != want {
			t.Errorf("%s: status %v (%q), want %v", id, c.Status, c.Message, want)
		}
	}
	for id, want := range sc.msg {
		if c := got[id]; !strings.Contains(c.Message, want) {
			t.Errorf("%s: message %q does not contain %q", id, c.Message, want)
		}
	}
	for id, want := range sc.fix {
		if c := got[id]; !strings.Contains(c.Fix, want) {
			t.Errorf("%s: fix %q does not contain %q", id, c.Fix, want)
		}
	}
	wantPassed := true
	for _, s := range sc.status {
		wantPassed = wantPassed && s != Fail
	}
	if rep.Passed() != wantPassed {
		t.Errorf("Passed() = %v, want %v; failed: %+v", rep.Passed(), wantPassed, rep.Failed())
	}
}

// assertNoSecrets fails when a secret, the token, a ciphertext or an HMAC
// appears anywhere in the JSON form of the report.
func assertNoSecrets(t *testing.T, rep *Report) {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{testSecretID, testJWT, testToken, vaultchecktest.Accessor, "vault:v1:"} {
		if strings.Contains(string(b), s) {
			t.Errorf("report leaks %q: %s", s, b)
		}
	}
}

var allPass = map[string]Status{
	"vault.reachable": Pass, "vault.namespace": Pass, "vault.login": Pass,
	"vault.capability.encrypt": Pass, "vault.capability.decrypt": Pass, "vault.capability.hmac": Pass,
	"transit.encrypt": Pass, "transit.decrypt": Pass, "transit.hmac": Pass, "transit.key": Skip,
	"node.vault@kms-1": Pass, "node.vault@kms-2": Pass,
}

func with(base map[string]Status, kv ...any) map[string]Status {
	m := map[string]Status{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(Status)
	}
	return m
}

const hmacPath = "transit/hmac/" + testKey

func scenarios() []scenario {
	return append(operatorScenarios(), append(loginScenarios(), transitScenarios()...)...)
}

func operatorScenarios() []scenario {
	return []scenario{
		{name: "good approle", status: allPass,
			msg: map[string]string{"vault.reachable": "Vault 1.21.1 at https://127.0.0.1", "vault.login": "policies: default, minkms; TTL 768h0m0s",
				"node.vault@kms-1": "node kms-1 reaches Vault at 127.0.0.1:", "transit.key": "not required"}},
		{name: "sealed", setup: func(v *vaultchecktest.FakeVault, _ *Config, _ *Options, _ *[]remote.Node) { v.Sealed = true },
			status: map[string]Status{"vault.reachable": Fail, "vault.login": Skip, "transit.encrypt": Skip, "node.vault@kms-1": Fail},
			msg:    map[string]string{"vault.reachable": "is sealed (503)", "node.vault@kms-1": "node kms-1: Vault at 127.0.0.1:"}},
		{name: "vault stopped", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.Server = "https://" + closedPort()
		},
			status: map[string]Status{"vault.reachable": Fail, "vault.login": Skip, "node.vault@kms-2": Fail},
			msg:    map[string]string{"vault.reachable": "connection refused", "node.vault@kms-2": "node kms-2 cannot reach Vault at 127.0.0.1:"},
			fix:    map[string]string{"vault.reachable": "start Vault"}},
		{name: "untrusted CA, skip-verify ignored", setup: func(_ *vaultchecktest.FakeVault, c *Config, o *Options, _ *[]remote.Node) {
			c.CACertFile = ""
			o.Getenv = func(k string) string { return map[string]string{"VAULT_SKIP_VERIFY": "true"}[k] }
		},
			status: map[string]Status{"vault.reachable": Fail, "node.vault@kms-1": Fail},
			msg:    map[string]string{"vault.reachable": "unknown authority", "node.vault@kms-1": "TLS handshake with Vault at 127.0.0.1:"},
			fix:    map[string]string{"vault.reachable": "vault.ca_cert"}},
		{name: "wrong server name", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.TLSServerName = "vault.wrong.example"
		},
			status: map[string]Status{"vault.reachable": Fail},
			msg:    map[string]string{"vault.reachable": "vault.wrong.example"}, fix: map[string]string{"vault.reachable": "tls_server_name"}},
		{name: "unreadable CA file", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.CACertFile = "/nonexistent/ca.pem"
		},
			status: map[string]Status{"vault.reachable": Fail, "node.vault@kms-1": Skip},
			msg:    map[string]string{"vault.reachable": "cannot load the CA: CA certificate /nonexistent/ca.pem (from vault.ca_cert)"}},
		{name: "node cut off from vault", setup: func(_ *vaultchecktest.FakeVault, _ *Config, _ *Options, n *[]remote.Node) {
			(*n)[1] = testNode("kms-2", errors.New("ssh: rejected: connect failed (No route to host)"))
		},
			status: with(allPass, "node.vault@kms-2", Fail),
			msg:    map[string]string{"node.vault@kms-2": "node kms-2 cannot reach Vault at 127.0.0.1:"}},
		{name: "node without SSH connection", setup: func(_ *vaultchecktest.FakeVault, _ *Config, _ *Options, n *[]remote.Node) {
			(*n)[0] = &Unreachable{NodeName: "kms-1", Err: errors.New("dial tcp 10.213.0.11:22: connect: no route to host")}
		},
			status: with(allPass, "node.vault@kms-1", Fail),
			msg:    map[string]string{"node.vault@kms-1": "node kms-1: no SSH connection, so Vault could not be checked from it: dial tcp 10.213.0.11:22"},
			fix:    map[string]string{"node.vault@kms-1": "fix SSH access"}},
		{name: "node times out", setup: func(_ *vaultchecktest.FakeVault, _ *Config, _ *Options, n *[]remote.Node) {
			(*n)[0] = testNode("kms-1", context.DeadlineExceeded)
		},
			status: with(allPass, "node.vault@kms-1", Fail), msg: map[string]string{"node.vault@kms-1": "timed out"}},
		{name: "skip nodes", setup: func(_ *vaultchecktest.FakeVault, _ *Config, o *Options, _ *[]remote.Node) { o.SkipNodes = true },
			status: map[string]Status{"node.vault": Skip, "transit.hmac": Pass}},
		{name: "env VAULT_ADDR and VAULT_CACERT", setup: func(v *vaultchecktest.FakeVault, c *Config, o *Options, _ *[]remote.Node) {
			env := map[string]string{"VAULT_ADDR": c.Server, "VAULT_CACERT": c.CACertFile}
			c.Server, c.CACertFile = "", ""
			o.Getenv = func(k string) string { return env[k] }
		}, status: allPass},
		{name: "namespace on open-source vault", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole.Namespace = "ns1"
		},
			status: with(allPass, "vault.namespace", Warn),
			msg:    map[string]string{"vault.namespace": `approle namespace "ns1" set, but Vault at https://127.0.0.1`},
			fix:    map[string]string{"vault.namespace": "remove namespace"}},
		{name: "namespace on enterprise", setup: func(v *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			v.Enterprise, c.Transit.Namespace = true, "ns1"
		}, status: allPass, msg: map[string]string{"vault.namespace": "Vault Enterprise"}},
	}
}

func loginScenarios() []scenario {
	return []scenario{
		{name: "wrong secret id", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole.Secret = "wrong-secret-id"
		},
			status: map[string]Status{"vault.reachable": Pass, "vault.login": Fail, "vault.capability.hmac": Skip, "transit.hmac": Skip, "node.vault@kms-1": Pass},
			msg:    map[string]string{"vault.login": "approle login at auth/approle/login was refused (400 invalid role or secret ID)"}},
		{name: "wrong auth mount", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole.Path = "/kms-approle/"
		},
			status: map[string]Status{"vault.login": Fail, "transit.encrypt": Skip},
			msg:    map[string]string{"vault.login": "(403 permission denied): Vault answers this when no auth method is mounted at kms-approle/"},
			fix:    map[string]string{"vault.login": "vault.approle.path"}},
		{name: "kubernetes good", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole, c.Kubernetes = nil, &configedit.Kubernetes{Role: "minkms", JWT: testJWT}
		}, status: allPass, msg: map[string]string{"vault.login": "policies: default, minkms"}},
		{name: "kubernetes bad jwt", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole, c.Kubernetes = nil, &configedit.Kubernetes{Role: "minkms", JWT: "eyJ.other-jwt.sig"}
		}, status: map[string]Status{"vault.login": Fail}, msg: map[string]string{"vault.login": "the JWT was rejected"}},
		{name: "kubernetes unknown role", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.AppRole, c.Kubernetes = nil, &configedit.Kubernetes{Role: "nobody", JWT: testJWT}
		}, status: map[string]Status{"vault.login": Fail}, msg: map[string]string{"vault.login": `there is no role "nobody" at auth/kubernetes`}},
	}
}

func transitScenarios() []scenario {
	return []scenario{
		{name: "role without hmac", setup: func(v *vaultchecktest.FakeVault, _ *Config, _ *Options, _ *[]remote.Node) { delete(v.Caps, hmacPath) },
			status: with(allPass, "vault.capability.hmac", Fail, "transit.hmac", Fail),
			msg: map[string]string{"vault.capability.hmac": "the token lacks update on transit/hmac/minkms-sealing-key (capabilities: [deny])",
				"transit.hmac": "permission denied on transit/hmac/minkms-sealing-key (403)"},
			fix: map[string]string{"vault.capability.hmac": "path \"transit/hmac/minkms-sealing-key\" {\n  capabilities = [\"update\"]\n}"}},
		{name: "key readable", setup: func(v *vaultchecktest.FakeVault, _ *Config, _ *Options, _ *[]remote.Node) {
			v.Caps["transit/keys/"+testKey] = []string{"read"}
		}, status: with(allPass, "transit.key", Pass), msg: map[string]string{"transit.key": "type aes256-gcm96"}},
		{name: "wrong key, exact policy", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) { c.Transit.Key = "nope" },
			status: map[string]Status{"vault.capability.encrypt": Fail, "vault.capability.hmac": Fail, "transit.hmac": Fail},
			msg:    map[string]string{"vault.capability.encrypt": `the policies grant key "minkms-sealing-key" under transit/, but the inventory names key "nope": fix vault.transit.key`}},
		{name: "wrong mount, exact policy", setup: func(_ *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.Transit.Path = "kms-transit"
		},
			status: map[string]Status{"vault.capability.decrypt": Fail, "transit.hmac": Fail},
			msg:    map[string]string{"vault.capability.decrypt": `the policies grant key "minkms-sealing-key" under mount transit/, but the inventory names mount kms-transit/: fix vault.transit.path`}},
		{name: "policy names another key and mount", setup: func(v *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			v.Caps = map[string][]string{"other/hmac/k2": {"update"}}
			c.Transit.Key = "nope"
		},
			status: map[string]Status{"vault.capability.hmac": Fail},
			msg:    map[string]string{"vault.capability.hmac": "the policies grant update only on other/hmac/k2"}},
		{name: "no transit policy at all", setup: func(v *vaultchecktest.FakeVault, _ *Config, _ *Options, _ *[]remote.Node) {
			v.Caps = map[string][]string{}
		},
			status: map[string]Status{"vault.capability.hmac": Fail, "transit.encrypt": Fail},
			msg:    map[string]string{"vault.capability.hmac": "name no other transit key: attach the policy to the role"}},
		{name: "wrong key, wildcard policy", setup: func(v *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.Transit.Key = "nope"
			for _, op := range transitOps {
				v.Caps["transit/"+op+"/nope"] = []string{"update"}
			}
		},
			status: with(allPass, "transit.hmac", Fail, "transit.encrypt", Skip, "transit.decrypt", Skip),
			msg:    map[string]string{"transit.hmac": `transit key "nope" does not exist at transit/ (400 encryption key not found)`, "transit.encrypt": "would try to create the key"},
			fix:    map[string]string{"transit.hmac": "vault write -f transit/keys/nope"}},
		{name: "missing key, readable", setup: func(v *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.Transit.Key = "nope"
			v.Caps["transit/keys/nope"] = []string{"read"}
			v.Caps["transit/hmac/nope"] = []string{"update"}
		},
			status: map[string]Status{"transit.key": Fail, "transit.hmac": Fail, "transit.encrypt": Skip},
			msg:    map[string]string{"transit.key": `transit key "nope" does not exist at transit/ (404)`}},
		{name: "wrong transit mount", setup: func(v *vaultchecktest.FakeVault, c *Config, _ *Options, _ *[]remote.Node) {
			c.Transit.Path = "kms-transit"
			for _, op := range transitOps {
				v.Caps["kms-transit/"+op+"/"+testKey] = []string{"update"}
			}
		},
			status: with(allPass, "transit.hmac", Fail, "transit.encrypt", Skip, "transit.decrypt", Skip, "transit.key", Skip),
			msg:    map[string]string{"transit.hmac": "no secrets engine is mounted at kms-transit/ (404 no handler for route)"},
			fix:    map[string]string{"transit.hmac": "vault.transit.path"}},
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestNamespaceHeaderAndNoEnvToken(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "env-token-must-not-be-sent")
	t.Setenv("VAULT_NAMESPACE", "env-ns-must-not-be-sent")
	v := vaultchecktest.New(t)
	v.Enterprise = true
	cfg := Config{CACertFile: v.WriteCA(t),
		VaultSettings: configedit.VaultSettings{Server: v.URL(), AppRole: &configedit.AppRole{ID: testRoleID, Secret: testSecretID, Namespace: "auth-ns"}, Transit: configedit.Transit{Key: testKey, Namespace: "transit-ns"}}}
	rep, err := Run(context.Background(), cfg, nil, Options{Getenv: noEnv})
	if err != nil || !rep.Passed() {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	for i, h := range v.Headers() {
		if h.Get("X-Vault-Token") == "env-token-must-not-be-sent" || strings.Contains(h.Get("X-Vault-Namespace"), "env-ns") {
			t.Errorf("request %d carries VAULT_* environment values: %v", i, h)
		}
	}
	// The login goes to the auth namespace, the transit calls to the transit one.
	if got := v.Headers()[1].Get("X-Vault-Namespace"); got != "auth-ns" {
		t.Errorf("login namespace = %q, want auth-ns", got)
	}
	if got := v.Headers()[len(v.Headers())-1].Get("X-Vault-Namespace"); got != "transit-ns" {
		t.Errorf("transit namespace = %q, want transit-ns", got)
	}
}

func TestRunRejectsUnusableConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no server", Config{VaultSettings: configedit.VaultSettings{AppRole: &configedit.AppRole{ID: "a", Secret: "b"}, Transit: configedit.Transit{Key: "k"}}}},
		{"no login", Config{VaultSettings: configedit.VaultSettings{Server: "https://v:8200", Transit: configedit.Transit{Key: "k"}}}},
		{"two logins", Config{VaultSettings: configedit.VaultSettings{Server: "https://v:8200", AppRole: &configedit.AppRole{ID: "a", Secret: "b"}, Kubernetes: &configedit.Kubernetes{Role: "r", JWT: "j"}, Transit: configedit.Transit{Key: "k"}}}},
		{"no key", Config{VaultSettings: configedit.VaultSettings{Server: "https://v:8200", AppRole: &configedit.AppRole{ID: "a", Secret: "b"}}}},
		{"no secret", Config{VaultSettings: configedit.VaultSettings{Server: "https://v:8200", AppRole: &configedit.AppRole{ID: "a"}, Transit: configedit.Transit{Key: "k"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg, nil, Options{Getenv: noEnv}); err == nil {
				t.Fatal("Run accepted an unusable config")
			}
		})
	}
}

func TestNodeChecksAreBoundedAndOrdered(t *testing.T) {
	v := vaultchecktest.New(t)
	cfg := Config{CACertFile: v.WriteCA(t),
		VaultSettings: configedit.VaultSettings{Server: v.URL(), AppRole: &configedit.AppRole{ID: testRoleID, Secret: testSecretID}, Transit: configedit.Transit{Key: testKey}}}
	var mu sync.Mutex
	var cur, peak int
	var nodes []remote.Node
	vault := strings.TrimPrefix(v.URL(), "https://")
	for i := range 12 {
		n := testNode(fmt.Sprintf("kms-%d", i+1), nil)
		// each node's tunnel to Vault counts the checks in flight, slowly
		n.HandleTCP(vault, func(c net.Conn) {
			mu.Lock()
			cur++
			peak = max(peak, cur)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			cur--
			mu.Unlock()
			remotetest.Forward(c, vault)
		})
		nodes = append(nodes, n)
	}
	rep, err := Run(context.Background(), cfg, nodes, Options{Getenv: noEnv, Parallel: 3})
	if err != nil || !rep.Passed() {
		t.Fatalf("Run: %v %+v", err, rep.Failed())
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak concurrent node checks = %d, want 2..3", peak)
	}
	var order []string
	for _, c := range rep.Checks {
		if c.Node != "" {
			order = append(order, c.Node)
		}
	}
	for i, n := range order {
		if n != fmt.Sprintf("kms-%d", i+1) {
			t.Fatalf("node checks out of inventory order: %v", order)
		}
	}
}
