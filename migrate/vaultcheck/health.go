package vaultcheck

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/vault/api"
)

// healthPath is asked without the *code parameters, so Vault answers with
// its documented status codes (503 sealed, 501 not initialized, 429 standby).
const healthPath = "/v1/sys/health"

// health is one sys/health answer.
type health struct {
	status int
	body   api.HealthResponse
}

// decodeHealth reads a sys/health answer. Any status is fine as long as the
// body is Vault's health JSON; anything else is not a Vault server.
func decodeHealth(resp *http.Response) (*health, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("reading sys/health: %w", err)
	}
	h := &health{status: resp.StatusCode}
	if err := json.Unmarshal(data, &h.body); err != nil || h.body.Version == "" {
		return nil, fmt.Errorf("sys/health answered %d %s without Vault's health JSON: is this a Vault server?",
			resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return h, nil
}

// problem returns why Vault cannot serve the nodes, or "" when it can.
func (h *health) problem(addr string) string {
	switch {
	case !h.body.Initialized:
		return fmt.Sprintf("Vault at %s is not initialized (%d)", addr, h.status)
	case h.body.Sealed:
		return fmt.Sprintf("Vault at %s is sealed (%d): unseal it first", addr, h.status)
	case h.body.RemovedFromCluster != nil && *h.body.RemovedFromCluster:
		return fmt.Sprintf("Vault at %s was removed from its cluster (%d)", addr, h.status)
	}
	return ""
}

// state summarises a healthy answer for messages.
func (h *health) state() string {
	if h.body.Standby {
		return "initialized, unsealed, standby"
	}
	return "initialized, unsealed"
}

// details are the facts shown with a sys/health check.
func (h *health) details() map[string]string {
	return map[string]string{
		"version":     h.body.Version,
		"initialized": fmt.Sprint(h.body.Initialized),
		"sealed":      fmt.Sprint(h.body.Sealed),
		"standby":     fmt.Sprint(h.body.Standby),
		"enterprise":  fmt.Sprint(h.body.Enterprise),
		"http_status": fmt.Sprint(h.status),
	}
}

// operatorHealth asks sys/health through the operator's HTTP client.
func operatorHealth(ctx context.Context, c *http.Client, u *vaultURL) (*health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath(healthPath).String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeHealth(resp)
}

// healthOverConn sends one GET sys/health over an established connection
// (a verified TLS connection opened from a node) and reads the answer.
func healthOverConn(ctx context.Context, conn net.Conn, u *vaultURL) (*health, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(defaultTimeout))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath(healthPath).String(), nil)
	if err != nil {
		return nil, err
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("sending sys/health request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, fmt.Errorf("reading sys/health answer: %w", err)
	}
	defer resp.Body.Close()
	return decodeHealth(resp)
}
