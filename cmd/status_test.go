package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	envWithKey  = "MINIO_KMS_HSM_KEY=hsm:aes256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nMINIO_KMS_VOLUME=/var/lib/minkms\n"
	configPlain = "version: v1\nadmin:\n  identity: h1:abc\n"
	configVault = configPlain + "hsm:\n  hashicorp:\n    vault:\n      server: https://10.213.0.1:8200\n"
	unitActive  = "ActiveState=active\nSubState=running\nResult=success\nNRestarts=2\nMainPID=812\nStateChangeTimestamp=Fri 2026-11-27 07:14:02 UTC\n"
	unitFailed  = "SubState=failed\nActiveState=failed\nResult=exit-code\nNRestarts=5\nMainPID=0\nStateChangeTimestamp=Fri 2026-11-27 07:58:00 UTC\n"
)

// scenario is a 3-node cluster where kms-2 leads and kms-3 already has a
// Vault block; tests then break parts of it.
type scenario struct {
	dialer *remotetest.Dialer
	nodes  map[string]*kmsNode
	apis   map[string]*fakeAPI
	env    map[string]string
	down   map[string]bool // nodes made unreachable
}

func newScenario() *scenario {
	cs := &kmsapi.ClusterStatus{
		Up: map[uint32]kmsapi.NodeStatus{
			1: {ID: 1, Host: "10.213.0.11:7373", Version: "2025-10-01T00-00-00Z", Role: kmsapi.RoleFollower, LeaderID: 2, HSM: []string{"local"}, HSMActive: []string{"local"}},
			2: {ID: 2, Host: "10.213.0.12:7373", Version: "2025-10-01T00-00-00Z", Role: kmsapi.RoleLeader, LeaderID: 2, HSM: []string{"local"}, HSMActive: []string{"local"}},
			3: {ID: 3, Host: "10.213.0.13:7373", Version: "2025-10-01T00-00-00Z", Role: kmsapi.RoleFollower, LeaderID: 2, HSM: []string{"local", "vault:transit/minkms-sealing-key"}, HSMActive: []string{"local", "vault:transit/minkms-sealing-key"}},
		},
		Down: map[uint32]string{},
	}
	s := &scenario{dialer: remotetest.NewDialer(), nodes: map[string]*kmsNode{}, apis: map[string]*fakeAPI{}, env: map[string]string{}, down: map[string]bool{}}
	for _, name := range []string{"kms-1", "kms-2", "kms-3"} {
		cfg := configPlain
		if name == "kms-3" {
			cfg = configVault
		}
		s.nodes[name] = newKMSNode(name, cfg, envWithKey)
		s.dialer.Add(s.nodes[name].Node)
		s.apis[name] = &fakeAPI{version: "2025-10-01T00-00-00Z", cluster: cs}
	}
	return s
}

// unreachable makes SSH connections to node fail with msg.
func (s *scenario) unreachable(node, msg string) {
	s.down[node] = true
	s.dialer.Fail(remotetest.Fault{Match: node, Err: dialFailure(msg)})
}

// dialFailure is the error net.Dial returns for msg ("dial tcp ADDR:
// connect: no route to host" and the like), typed as the real one is, so
// that the dial error classification sees what it sees in production.
func dialFailure(msg string) error {
	var errno error
	var addr net.Addr
	if f := strings.Fields(msg); len(f) > 2 {
		addr, _ = net.ResolveTCPAddr("tcp", strings.TrimSuffix(f[2], ":"))
	}
	switch {
	case strings.HasSuffix(msg, "no route to host"):
		errno = syscall.EHOSTUNREACH
	case strings.HasSuffix(msg, "connection refused"):
		errno = syscall.ECONNREFUSED
	case strings.HasSuffix(msg, "i/o timeout"):
		return &net.OpError{Op: "dial", Net: "tcp", Addr: addr, Err: os.ErrDeadlineExceeded}
	default:
		return errors.New(msg)
	}
	return &net.OpError{Op: "dial", Net: "tcp", Addr: addr, Err: &os.SyscallError{Syscall: "connect", Err: errno}}
}

// noWrites fails the test when any node was asked to write a file.
func (s *scenario) noWrites(t *testing.T) {
	t.Helper()
	for name, n := range s.nodes {
		if w := n.writes(); len(w) > 0 {
			t.Errorf("%s: wrote %v", name, w)
		}
	}
}

func (s *scenario) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	f, out, errOut := testFactory(s.dialer, s.apis, s.env)
	code = Main(context.Background(), f, append([]string{"status", "-i", "testdata/status-inventory.yaml"}, args...))
	return code, out.String(), errOut.String()
}

func TestStatusGolden(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(s *scenario)
		wantCode int
	}{
		{"healthy", func(s *scenario) { s.env["MINIO_KMS_API_KEY"] = "k1:fake" }, ExitOK},
		{"degraded", func(s *scenario) {
			s.nodes["kms-2"].unit = unitFailed
			s.apis["kms-2"].notReady = "connection refused"
			s.unreachable("kms-3", "dial tcp 10.213.0.13:22: connect: no route to host")
		}, ExitUnhealthy},
	}
	for _, tt := range tests {
		for _, format := range []string{"table", "json"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				s := newScenario()
				tt.setup(s)
				code, out, stderr := s.run(t, "-o", format)
				if code != tt.wantCode {
					t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
				}
				ext := map[string]string{"table": ".txt", "json": ".json"}[format]
				golden(t, filepath.Join("testdata", "status_"+tt.name+ext), out)
				for name, n := range s.nodes {
					if !s.down[name] && !n.Closed() {
						t.Errorf("connection to %s left open", name)
					}
				}
				s.noWrites(t) // status only reads
				if format == "json" {
					var doc map[string]any
					if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["schema"] != statusSchema {
						t.Errorf("not a %s document: %v", statusSchema, err)
					}
				}
			})
		}
	}
}

func TestStatusProblems(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *scenario)
		code  int
		want  string
	}{
		{"sudo refused", func(s *scenario) { s.nodes["kms-1"].RefuseSudo("sudo: a password is required") }, ExitUnhealthy, "kms-1: sudo: exit 1: sudo: a password is required"},
		{"both vault spellings", func(s *scenario) {
			s.nodes["kms-1"].SetFile(kmsConfigPath, remotetest.File{Data: []byte(configVault + "  vault:\n    server: https://x\n"), Mode: 0o640})
		}, ExitUnhealthy, "kms-1: config has both Vault block spellings: hsm.hashicorp.vault and hsm.vault"},
		{"no hsm", func(s *scenario) { s.nodes["kms-1"].RemoveFile(kmsEnvPath) }, ExitUnhealthy, "kms-1: no HSM configured"},
		{"node down in view", func(s *scenario) {
			s.env["MINIO_KMS_API_KEY"] = "k1:fake"
			cs := &kmsapi.ClusterStatus{Up: map[uint32]kmsapi.NodeStatus{}, Down: map[uint32]string{1: "10.213.0.11:7373"}}
			for id, st := range s.apis["kms-1"].cluster.Up {
				if id != 1 {
					cs.Up[id] = st
				}
			}
			for _, a := range s.apis {
				a.cluster = cs
			}
		}, ExitUnhealthy, "cluster: node kms-1 is down in the cluster view"},
		{"member not in inventory", func(s *scenario) {
			s.env["MINIO_KMS_API_KEY"] = "k1:fake"
			s.apis["kms-1"].cluster.Up[4] = kmsapi.NodeStatus{ID: 4, Host: "10.213.0.14:7373", Role: kmsapi.RoleFollower, LeaderID: 2}
		}, ExitOK, "warning: cluster member 4 (10.213.0.14:7373) is not in the inventory"},
		{"split leader", func(s *scenario) {
			s.env["MINIO_KMS_API_KEY"] = "k1:fake"
			split := &kmsapi.ClusterStatus{Up: map[uint32]kmsapi.NodeStatus{3: {ID: 3, Host: "10.213.0.13:7373", Role: kmsapi.RoleLeader, LeaderID: 3}}}
			s.apis["kms-3"].cluster = split
		}, ExitUnhealthy, "cluster: node kms-3 sees another leader (10.213.0.13:7373) than the others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario()
			tt.setup(s)
			code, out, _ := s.run(t)
			s.noWrites(t)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestStatusNoAPIKeyNote(t *testing.T) {
	code, out, stderr := newScenario().run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(stderr, "no API key") || strings.Contains(out, "no API key") {
		t.Errorf("the note belongs on stderr only; stdout:\n%s\nstderr:\n%s", out, stderr)
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./cmd -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// TestStatusTerminal: the test streams' TTY switch drives the styling:
// a terminal gets a bordered table, coloured unless --no-color or
// NO_COLOR; a pipe gets plain text; -o json is plain JSON either way.
func TestStatusTerminal(t *testing.T) {
	tests := []struct {
		name           string
		tty, noColor   bool
		args           []string
		border, colour bool
	}{
		{name: "pipe", border: false, colour: false},
		{name: "terminal", tty: true, border: true, colour: true},
		{name: "terminal --no-color", tty: true, args: []string{"--no-color"}, border: true, colour: false},
		{name: "terminal NO_COLOR", tty: true, noColor: true, border: true, colour: false},
		{name: "terminal json", tty: true, args: []string{"-o", "json"}, border: false, colour: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario()
			f, out, _ := testFactory(s.dialer, s.apis, s.env)
			f.IO.SetTTY(tt.tty)
			f.IO.NoColor = tt.noColor
			if code := Main(context.Background(), f, append([]string{"status", "-i", "testdata/status-inventory.yaml"}, tt.args...)); code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			if got := strings.Contains(out.String(), "╭"); got != tt.border {
				t.Errorf("border %v, want %v:\n%s", got, tt.border, out)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.colour {
				t.Errorf("colour %v, want %v:\n%q", got, tt.colour, out)
			}
		})
	}
}

// TestStatusVerboseTimesOnItsClock: --verbose reports each node's probe
// time measured on the Factory's clock (which stands still here), on stderr.
func TestStatusVerboseTimesOnItsClock(t *testing.T) {
	code, out, stderr := newScenario().run(t, "--verbose")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, n := range []string{"kms-1", "kms-2", "kms-3"} {
		if line := "debug: node " + n + ": probed in 0s"; !strings.Contains(stderr, line) || strings.Contains(out, "debug:") {
			t.Errorf("stderr lacks %q (or stdout has debug lines):\n%s", line, stderr)
		}
	}
}
