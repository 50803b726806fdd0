package cmd

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

func TestEnvHasKey(t *testing.T) {
	tests := []struct {
		name, env string
		want      bool
	}{
		{"plain", "MINIO_KMS_HSM_KEY=hsm:aes256:abc\n", true},
		{"quoted", "MINIO_KMS_HSM_KEY=\"hsm:aes256:abc\"\n", true},
		{"spaces", "  MINIO_KMS_HSM_KEY = hsm:aes256:abc\r\n", true},
		{"absent", "MINIO_KMS_VOLUME=/v\n", false},
		{"commented", "# MINIO_KMS_HSM_KEY=hsm:aes256:abc\n", false},
		{"export ignored by systemd", "export MINIO_KMS_HSM_KEY=hsm:aes256:abc\n", false},
		{"continued", "MINIO_KMS_HSM_KEY=\\\nhsm:aes256:abc\n", true},
		{"prefix of other name", "MINIO_KMS_HSM_KEY_OLD=x\n", false},
	}
	for _, tt := range tests {
		if got, err := envHasKey([]byte(tt.env)); err != nil || got != tt.want {
			t.Errorf("%s: envHasKey = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestVaultBlocks(t *testing.T) {
	tests := []struct {
		name, cfg string
		want      []string
		wantErr   bool
	}{
		{"none", "version: v1\n", nil, false},
		{"empty file is no key manager config", "", nil, true},
		{"hashicorp", "hsm:\n  hashicorp:\n    vault:\n      server: https://v\n", []string{"hsm.hashicorp.vault"}, false},
		{"short", "hsm:\n  vault:\n    server: https://v\n", []string{"hsm.vault"}, false},
		{"both", "hsm:\n  vault:\n    server: https://v\n  hashicorp:\n    vault:\n      server: https://v\n", []string{"hsm.hashicorp.vault", "hsm.vault"}, false},
		{"openbao is an external HSM", "hsm:\n  openssf:\n    openbao: {}\n", []string{"hsm.openssf.openbao"}, false},
		{"other hsm", "hsm:\n  pkcs11:\n    module: /x.so\n", nil, false},
		{"broken", "hsm: [\n", nil, true},
	}
	for _, tt := range tests {
		got, err := vaultBlocks([]byte(tt.cfg))
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("%s: vaultBlocks = %v, %v; want %v (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestTargetFor(t *testing.T) {
	all := inventory.Explicit{User: true, Port: true, IdentityFile: true, KnownHosts: true}
	n := inventory.Node{Name: "kms-1", Address: "10.0.0.1", SSH: inventory.SSH{User: "ops", Port: 2222, IdentityFile: "/k", KnownHosts: "/kh", Sudo: true, Explicit: all}}
	if got := targetFor(n); got != (remote.Target{Name: "kms-1", Address: "10.0.0.1", Port: 2222, User: "ops", IdentityFile: "/k", KnownHosts: "/kh", Sudo: true}) {
		t.Errorf("targetFor = %+v", got)
	}
	defaults := n
	defaults.SSH.Explicit = inventory.Explicit{}
	if got := targetFor(defaults); got != (remote.Target{Name: "kms-1", Address: "10.0.0.1", Sudo: true}) {
		t.Errorf("defaults must be left to ssh_config: targetFor = %+v", got)
	}
	tests := []struct {
		spec string
		want remote.Target
	}{
		{"bastion", remote.Target{Name: "bastion bastion", Address: "bastion", User: "ops", IdentityFile: "/k", KnownHosts: "/kh"}},
		{"jump@10.0.0.9:2200", remote.Target{Name: "bastion jump@10.0.0.9:2200", Address: "10.0.0.9", Port: 2200, User: "jump", IdentityFile: "/k", KnownHosts: "/kh"}},
	}
	for _, tt := range tests {
		n.SSH.ProxyJump = tt.spec
		got := targetFor(n)
		if got.ProxyJump == nil || *got.ProxyJump != tt.want {
			t.Errorf("%s: jump = %+v, want %+v", tt.spec, got.ProxyJump, tt.want)
		}
	}
	n.SSH.ProxyJump = "b1,b2"
	if got := targetFor(n).ProxyJump; got == nil || got.Address != "b2" || got.ProxyJump == nil || got.ProxyJump.Address != "b1" {
		t.Errorf("chain b1,b2: %+v", got)
	}
}

// slowDialer counts how many dials are in flight at once.
type slowDialer struct {
	*remotetest.Dialer
	inFlight, peak atomic.Int32
}

func (d *slowDialer) Dial(ctx context.Context, t remote.Target) (remote.Node, error) {
	cur := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for {
		p := d.peak.Load()
		if cur <= p || d.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	return d.Dialer.Dial(ctx, t)
}

func TestStatusParallelBound(t *testing.T) {
	for _, parallel := range []int{1, 2, 3} {
		s := newScenario()
		d := &slowDialer{Dialer: s.dialer}
		nodes := make([]inventory.Node, 0, 3)
		for _, name := range []string{"kms-1", "kms-2", "kms-3"} {
			nodes = append(nodes, inventory.Node{Name: name, SSH: inventory.SSH{User: "root"}})
		}
		opts := &StatusOptions{nodeDeps: nodeDeps{NodeAPI: fakeAPIs(s.apis), Parallel: parallel}, Timeout: time.Second}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); collectStatus(context.Background(), opts, d, nodes, "") }()
		wg.Wait()
		if got := d.peak.Load(); got != int32(parallel) {
			t.Errorf("--parallel %d: peak %d concurrent dials", parallel, got)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := map[time.Duration]string{
		-time.Second: "0s", 45 * time.Second: "45s", 12 * time.Minute: "12m",
		3*time.Hour + 5*time.Minute: "3h05m", 52 * time.Hour: "2d04h",
	}
	for d, want := range tests {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
