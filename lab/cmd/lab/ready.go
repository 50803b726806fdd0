package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
)

// httpsClient trusts only the lab CA.
func httpsClient(l labdir.Layout, timeout time.Duration) (*http.Client, error) {
	pem, err := os.ReadFile(l.CACert())
	if err != nil {
		return nil, fmt.Errorf("read lab CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// ready reports whether a node's /v1/health/ready answers 200.
func ready(ctx context.Context, c *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/v1/health/ready", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// unitActive asks the node's own systemd whether a unit is active.
func unitActive(ctx context.Context, pid int, unit string) bool {
	out, _ := node.Output(ctx, pid, nil, "systemctl", "is-active", unit)
	return strings.TrimSpace(string(out)) == "active"
}

// waitReady waits until every node's sshd and minkms units are active, sshd
// listens and the key manager reports ready.
func waitReady(ctx context.Context, l labdir.Layout, st *labdir.State, timeout time.Duration) error {
	c, err := httpsClient(l, 2*time.Second)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	pending := append([]labdir.NodeState(nil), st.Nodes...)
	for len(pending) > 0 {
		var next []labdir.NodeState
		for _, n := range pending {
			if !nodeReady(ctx, c, n) {
				next = append(next, n)
			}
		}
		pending = next
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not ready after %s: %s (see lab status; journal: lab exec NODE -- journalctl -u minkms)", timeout, names(pending))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

func nodeReady(ctx context.Context, c *http.Client, n labdir.NodeState) bool {
	if !ready(ctx, c, n.Address+":7373") {
		return false
	}
	// ssh.service is Type=notify: active means sshd listens.
	return unitActive(ctx, n.PID, "minkms") && unitActive(ctx, n.PID, "ssh")
}

func names(ns []labdir.NodeState) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return strings.Join(out, ", ")
}
