package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck/vaultchecktest"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// vcEnv is one vault check run: a fake Vault, three nodes, an inventory.
type vcEnv struct {
	t      *testing.T
	vault  *vaultchecktest.FakeVault
	dialer *remotetest.Dialer
	// nodes reach the fake Vault through their tunnel and hold a
	// Kubernetes service account token.
	nodes map[string]*remotetest.Node
	dir   string
	env   map[string]string
	// login is the inventory's approle or kubernetes mapping (YAML, indented by 4).
	login string
}

const k8sTokenPath = "/etc/minkms/k8s-token"

func newVCEnv(t *testing.T) *vcEnv {
	t.Helper()
	e := &vcEnv{t: t, vault: vaultchecktest.New(t), dir: t.TempDir(), env: map[string]string{},
		dialer: remotetest.NewDialer(), nodes: map[string]*remotetest.Node{}}
	u, err := url.Parse(e.vault.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kms-1", "kms-2", "kms-3"} {
		n := remotetest.NewNode(name)
		n.SetFile(k8sTokenPath, remotetest.File{Data: []byte(vaultchecktest.JWT + "\n"), Mode: 0o600})
		n.ForwardTCP(u.Host, u.Host)
		e.nodes[name] = n
		e.dialer.Add(n)
	}
	ca, err := os.ReadFile(e.vault.WriteCA(t))
	if err != nil {
		t.Fatal(err)
	}
	e.write("ca.pem", string(ca))
	e.write("secret-id", vaultchecktest.SecretID+"\n")
	e.login = "    approle:\n      id: " + vaultchecktest.RoleID + "\n      secret_file: secret-id\n"
	return e
}

func (e *vcEnv) write(name, data string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(data), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// inventory writes the inventory file and returns its path.
func (e *vcEnv) inventory(t *testing.T, transitExtra string) string {
	t.Helper()
	inv := fmt.Sprintf(`version: v1
ssh:
  user: root
  known_hosts: known_hosts
nodes:
  - {name: kms-1, address: 10.213.0.11}
  - {name: kms-2, address: 10.213.0.12}
  - {name: kms-3, address: 10.213.0.13}
vault:
    server: %s
    ca_cert: ca.pem
%s    transit:
      key: %s
%s`, e.vault.URL(), e.login, vaultchecktest.Key, transitExtra)
	e.write("inventory.yaml", inv)
	return filepath.Join(e.dir, "inventory.yaml")
}

// run executes `kmsctl vault check -i INV args...` and returns the exit
// status and both streams.
func (e *vcEnv) run(t *testing.T, inv string, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := testFactory(nil, nil, e.env)
	f.Dialer = func(DialerOptions) (remote.Dialer, error) { return e.dialer, nil }
	code := Main(context.Background(), f, append([]string{"vault", "check", "-i", inv}, args...))
	for name, n := range e.nodes {
		for _, c := range n.Calls() {
			if c.Op == remotetest.OpRun || c.Op == remotetest.OpWriteFileAtomic {
				t.Errorf("%s: the vault check must only read and dial, it called %s %q %s", name, c.Op, c.Args, c.Path)
			}
		}
	}
	return code, out.String(), errOut.String()
}

// dialled returns the nodes the run connected to, sorted, comma separated.
func (e *vcEnv) dialled() string {
	var names []string
	for _, t := range e.dialer.Targets() {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// unreachable makes SSH connections to node fail with msg.
func (e *vcEnv) unreachable(node, msg string) {
	e.dialer.Fail(remotetest.Fault{Match: node, Err: dialFailure(msg)})
}

// normalize replaces the fake Vault's random port by as many X, so the
// table keeps its alignment and the goldens are stable.
func (e *vcEnv) normalize(s string) string {
	u, _ := url.Parse(e.vault.URL())
	return strings.ReplaceAll(s, u.Host, u.Hostname()+":"+strings.Repeat("X", len(u.Port())))
}

func TestVaultCheckGolden(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(e *vcEnv)
		transit  string
		args     []string
		wantCode int
	}{
		{name: "pass", wantCode: ExitOK},
		{name: "nohmac", setup: func(e *vcEnv) { delete(e.vault.Caps, "transit/hmac/"+vaultchecktest.Key) }, wantCode: ExitUnhealthy},
		{name: "nodes_cut_off", setup: func(e *vcEnv) {
			e.nodes["kms-2"].Fail(remotetest.Fault{Op: remotetest.OpDialTCP, Err: errors.New("ssh: rejected: connect failed (No route to host)")})
			e.unreachable("kms-3", "dial tcp 10.213.0.13:22: connect: connection refused")
		}, wantCode: ExitUnhealthy},
		{name: "wrong_secret", setup: func(e *vcEnv) { e.vault.SecretID = "another-secret-id" }, wantCode: ExitUnhealthy},
		{name: "namespace_oss", transit: "      namespace: ns1\n", wantCode: ExitOK},
		{name: "skip_nodes", args: []string{"--skip-nodes"}, wantCode: ExitOK},
	}
	for _, tt := range tests {
		for _, format := range []string{"table", "json"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				e := newVCEnv(t)
				if tt.setup != nil {
					tt.setup(e)
				}
				code, stdout, stderr := e.run(t, e.inventory(t, tt.transit), append(tt.args, "-o", format)...)
				if code != tt.wantCode {
					t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
				}
				ext := map[string]string{"table": ".txt", "json": ".json"}[format]
				assertGolden(t, filepath.Join("testdata", "vault_check", tt.name+ext), e.normalize(stdout))
			})
		}
	}
}

// assertGolden compares got with the golden file, or rewrites it with -update.
func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ -run TestVaultCheckGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (rerun with -update if intended):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// TestVaultCheckNoSecrets greps stdout, stderr and the JSON of passing and
// failing runs (with --verbose) for the secret id, the token, the JWT, the
// accessor and any transit output.
func TestVaultCheckNoSecrets(t *testing.T) {
	secrets := []string{vaultchecktest.SecretID, vaultchecktest.Token, vaultchecktest.JWT, vaultchecktest.Accessor, "vault:v1:", "SHOULD-NEVER-APPEAR"}
	setups := map[string]func(e *vcEnv){
		"good":          func(*vcEnv) {},
		"wrong secret":  func(e *vcEnv) { e.vault.SecretID = "another-secret-id" },
		"nohmac":        func(e *vcEnv) { delete(e.vault.Caps, "transit/hmac/"+vaultchecktest.Key) },
		"sealed":        func(e *vcEnv) { e.vault.Sealed = true },
		"wrong key":     func(e *vcEnv) { e.vault.Key = "other-key" },
		"k8s from node": func(e *vcEnv) { e.login = "    kubernetes:\n      role: minkms\n      jwt: " + k8sTokenPath + "\n" },
		"k8s bad jwt": func(e *vcEnv) {
			e.vault.JWT = "another-jwt"
			e.login = "    kubernetes:\n      role: minkms\n      jwt: " + k8sTokenPath + "\n"
		},
	}
	for name, setup := range setups {
		for _, format := range []string{"table", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				e := newVCEnv(t)
				setup(e)
				_, stdout, stderr := e.run(t, e.inventory(t, ""), "-o", format, "--verbose")
				if stdout == "" {
					t.Fatal("no output")
				}
				for _, s := range secrets {
					if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
						t.Errorf("output contains %q:\nstdout: %s\nstderr: %s", s, stdout, stderr)
					}
				}
			})
		}
	}
}

func TestVaultCheckCredentials(t *testing.T) {
	k8s := func(extra string) func(e *vcEnv) {
		return func(e *vcEnv) {
			e.login = "    kubernetes:\n      role: minkms\n      jwt: " + k8sTokenPath + "\n" + extra
		}
	}
	tests := []struct {
		name        string
		setup       func(e *vcEnv)
		args        []string
		wantCode    int
		wantDialled string // nodes dialled, sorted, comma separated
		wantErr     string // substring of stderr
	}{
		{name: "secret from env", setup: func(e *vcEnv) {
			e.env["LAB_SECRET"] = vaultchecktest.SecretID
			e.login = "    approle:\n      id: " + vaultchecktest.RoleID + "\n      secret_env: LAB_SECRET\n"
		}, wantCode: ExitOK, wantDialled: "kms-1,kms-2,kms-3"},
		{name: "no secret source", setup: func(e *vcEnv) {
			e.login = "    approle:\n      id: " + vaultchecktest.RoleID + "\n"
		}, wantCode: ExitFailed, wantErr: "vault.approle secret id: no source for the secret"},
		{name: "approle, skip nodes dials none", args: []string{"--skip-nodes"}, wantCode: ExitOK, wantDialled: ""},
		{name: "jwt from the first node", setup: k8s(""), wantCode: ExitOK, wantDialled: "kms-1,kms-2,kms-3"},
		{name: "jwt, skip nodes dials the first only", setup: k8s(""), args: []string{"--skip-nodes"}, wantCode: ExitOK, wantDialled: "kms-1"},
		{name: "jwt from the next node when the first is down", setup: func(e *vcEnv) {
			k8s("")(e)
			e.unreachable("kms-1", "dial tcp 10.213.0.11:22: i/o timeout")
		}, wantCode: ExitUnhealthy, wantDialled: "kms-1,kms-2,kms-3"},
		{name: "jwt file local", setup: func(e *vcEnv) {
			e.write("jwt", vaultchecktest.JWT+"\n")
			k8s("      jwt_file: jwt\n")(e)
		}, args: []string{"--skip-nodes"}, wantCode: ExitOK, wantDialled: ""},
		{name: "jwt, skip nodes, first node down", setup: func(e *vcEnv) {
			k8s("")(e)
			e.unreachable("kms-1", "dial tcp 10.213.0.11:22: i/o timeout")
		}, args: []string{"--skip-nodes"}, wantCode: ExitFailed, wantErr: "on node kms-1: node kms-1: no SSH connection: cannot connect to 10.213.0.11:22: timed out (i/o timeout)"},
		{name: "jwt missing on the node", setup: func(e *vcEnv) {
			k8s("")(e)
			e.nodes["kms-1"].RemoveFile(k8sTokenPath)
		}, wantCode: ExitFailed, wantErr: "read " + k8sTokenPath + " on node kms-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newVCEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			code, stdout, stderr := e.run(t, e.inventory(t, ""), append(tt.args, "-o", "json")...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			if login := checkStatus(t, stdout, "vault.login"); login != "pass" {
				t.Errorf("vault.login = %q, want pass", login)
			}
			if got := e.dialled(); got != tt.wantDialled {
				t.Errorf("dialled %q, want %q", got, tt.wantDialled)
			}
		})
	}
}

// checkStatus returns the status of the check id in a JSON report.
func checkStatus(t *testing.T, doc, id string) string {
	t.Helper()
	var rep vaultcheck.Report
	if err := json.Unmarshal([]byte(doc), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, doc)
	}
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status.String()
		}
	}
	return "missing"
}

func TestVaultCheckNoVaultSection(t *testing.T) {
	f, _, errOut := testFactory(nil, nil, nil)
	code := Main(context.Background(), f, []string{"vault", "check", "-i", "testdata/status-inventory.yaml"})
	if code != ExitUsage || !strings.Contains(errOut.String(), "no vault section") {
		t.Fatalf("exit %d, stderr %q; want %d and a message naming the vault section", code, errOut, ExitUsage)
	}
}

// TestVaultCheckFlags checks that RunE only fills the options.
func TestVaultCheckFlags(t *testing.T) {
	f, _, _ := testFactory(nil, nil, nil)
	var got *VaultCheckOptions
	root := NewRootCmd(f)
	vault, _, err := root.Find([]string{"vault"})
	if err != nil {
		t.Fatal(err)
	}
	vault.RemoveCommand(vault.Commands()...)
	vault.AddCommand(newCmdVaultCheck(f, func(_ context.Context, o *VaultCheckOptions) error { got = o; return nil }))
	root.SetArgs([]string{"vault", "check", "-i", "inv.yaml", "--skip-nodes", "-o", "json", "--parallel", "3"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got == nil || !got.SkipNodes || got.Output != outputJSON || got.Parallel != 3 || got.Inventory == nil || got.Getenv == nil {
		t.Fatalf("options = %+v", got)
	}
}

// TestVaultCheckTableFixes checks the table's fix section on its own:
// identical fixes are printed once under every check they fix.
func TestVaultCheckTableFixes(t *testing.T) {
	stanza := vaultcheck.PolicyStanza("transit/hmac/k")
	rep := &vaultcheck.Report{Schema: vaultcheck.Schema, Checks: []vaultcheck.Check{
		{ID: "vault.capability.hmac", Title: "update on transit/hmac/k", Status: vaultcheck.Fail, Message: "lacks update", Fix: stanza},
		{ID: "transit.hmac", Title: "HMAC", Status: vaultcheck.Fail, Message: "403", Fix: stanza},
		{ID: "node.vault", Node: "kms-2", Title: "Vault reachable from kms-2", Status: vaultcheck.Fail, Message: "no route", Fix: "check routing"},
		{ID: "vault.namespace", Title: "Vault namespaces", Status: vaultcheck.Warn, Message: "ignored", Fix: "remove namespace"},
		{ID: "transit.key", Title: "type", Status: vaultcheck.Skip, Message: "skipped: not readable", Fix: "never shown"},
	}}
	io, _, out, _ := NewTestIOStreams()
	if err := writeVaultCheck(io, outputTable, rep); err != nil {
		t.Fatal(err)
	}
	want := `
Vault check failed: 0 passed, 3 failed, 1 skipped, 1 warning

How to fix:
  vault.capability.hmac, transit.hmac:
    path "transit/hmac/k" {
      capabilities = ["update"]
    }
  node.vault (kms-2):
    check routing
  vault.namespace:
    remove namespace
`
	if _, tail, _ := strings.Cut(out.String(), "skipped: not readable\n"); tail != want {
		t.Errorf("table tail:\n%s\nwant:\n%s", tail, want)
	}
}
