package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/pki"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// Lab addresses of Vault and of the TokenReview endpoint (docs/design.md).
const (
	vaultAddr          = node.HostAddr + ":8200"
	k8sAddr            = node.HostAddr + ":8443"
	k8sEndpointCommand = "__k8s-endpoint"
)

// vaultConfig describes the lab's Vault inside DIR.
func vaultConfig(l labdir.Layout) vaultlab.Config {
	return vaultlab.Config{
		Dir: l.VaultDir(), SecretsDir: l.Path("secrets"), Addr: vaultAddr,
		CertFile: filepath.Join(l.VaultDir(), "tls.crt"), KeyFile: filepath.Join(l.VaultDir(), "tls.key"),
		CAFile: l.CACert(), K8sAddr: k8sAddr,
	}
}

// vaultResult is what the Vault goroutine of up hands back.
type vaultResult struct {
	info   labdir.VaultInfo
	k8sPID int
	err    error
}

// startVault issues Vault's certificate, starts and sets up Vault, then starts
// the TokenReview endpoint that Vault's kubernetes auth calls.
func startVault(ctx context.Context, l labdir.Layout, src string) vaultResult {
	var r vaultResult
	cfg := vaultConfig(l)
	if r.err = issueVaultCert(l, cfg); r.err != nil {
		return r
	}
	srv, err := vaultlab.Start(ctx, cfg)
	if err != nil {
		r.err = fmt.Errorf("start vault: %w", err)
		return r
	}
	creds, err := srv.Setup(ctx)
	if err != nil {
		r.err = fmt.Errorf("set up vault: %w", err)
		return r
	}
	r.info = labdir.VaultInfo{Addr: cfg.URL(), ApproleID: creds.ApproleID,
		Approle2ID: creds.Approle2ID, NoHMACRoleID: creds.NoHMACRoleID, RotateRoleID: creds.RotateRoleID}
	exe, _ := os.Executable()
	r.k8sPID, r.err = spawnDetached(filepath.Join(l.VaultDir(), "k8s-endpoint.log"), exe, k8sEndpointCommand, l.Root)
	if r.err == nil {
		r.err = waitTCP(ctx, k8sAddr, 10*time.Second)
	}
	return r
}

// issueVaultCert signs the certificate shared by Vault and the TokenReview endpoint.
func issueVaultCert(l labdir.Layout, cfg vaultlab.Config) error {
	ca, err := pki.LoadCA(l.CACert(), l.CAKey())
	if err != nil {
		return err
	}
	leaf, err := ca.Issue("kmslab-vault", []string{"localhost"}, []net.IP{net.ParseIP(node.HostAddr), net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg.CertFile, leaf.CertPEM, 0o644); err != nil {
		return fmt.Errorf("write vault certificate: %w", err)
	}
	return os.WriteFile(cfg.KeyFile, leaf.KeyPEM, 0o600)
}

// cmdK8sEndpoint is the hidden `lab __k8s-endpoint DIR`: it serves TokenReview
// for the lab's service account token until terminated.
func cmdK8sEndpoint(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: lab %s DIR", k8sEndpointCommand)
	}
	l := labdir.Layout{Root: args[0]}
	accept, err := vaultlab.LoadTokenReviewAccept(l.Secret(labdir.SecretK8sJWT))
	if err != nil {
		return err
	}
	cfg := vaultConfig(l)
	return vaultlab.ServeTokenReview(ctx, k8sAddr, cfg.CertFile, cfg.KeyFile, accept)
}

// stopK8sEndpoint terminates the TokenReview endpoint if it still runs.
func stopK8sEndpoint(pid int) {
	if processRuns(pid, k8sEndpointCommand) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 50 && processRuns(pid, k8sEndpointCommand); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func waitTCP(ctx context.Context, addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not listening: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// findK8sEndpoints finds TokenReview endpoints of this DIR by their exact
// command line, for a down after an up that crashed before saving their PID.
func findK8sEndpoints(dir string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) == 3 && args[1] == k8sEndpointCommand && args[2] == dir {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
