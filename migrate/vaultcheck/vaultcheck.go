package vaultcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/kmsctl/kmsctl/remote"
)

// runner carries what one step hands to the next.
type runner struct {
	r       *resolved
	report  *Report
	u       *vaultURL
	tlsConf *tls.Config
	httpc   *http.Client
	vault   *api.Client
	health  *health
	token   string
	// blocked, when set, is why the remaining operator steps are skipped.
	blocked string
	// secrets are values produced during the run (token, ciphertext, HMAC)
	// that redact removes from the report.
	secrets []string
}

// Run performs the checks of `kmsctl vault check` in order: Vault reachable
// from the operator, namespace sanity, login, capabilities, live transit
// round trip, then Vault reachable from every node. It never stops early:
// a step whose prerequisite failed is reported as skipped with the reason,
// and the node checks run even when the operator cannot reach Vault. The
// error is only for a Config that cannot be checked at all.
func Run(ctx context.Context, cfg Config, nodes []remote.Node, opts Options) (*Report, error) {
	r, err := resolve(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}
	run := &runner{r: r, report: &Report{Schema: Schema, Checks: []Check{}}}
	run.checkReachable(ctx)
	run.checkNamespace()
	run.checkLogin(ctx)
	run.checkCapabilities(ctx)
	run.checkRoundTrip(ctx)
	run.checkNodes(ctx, nodes, opts.SkipNodes)
	run.report.redact(append(slices.Clone(r.secretValues), run.secrets...))
	return run.report, nil
}

// skipped returns a Skip check carrying the reason the step could not run.
func skipped(id, title, reason string) Check {
	return Check{ID: id, Title: title, Status: Skip, Message: "skipped: " + reason}
}

// checkReachable is step 1: TLS verified, sys/health initialized and unsealed.
func (run *runner) checkReachable(ctx context.Context) {
	r := run.r
	c := Check{ID: "vault.reachable", Title: "Vault reachable from the operator", Details: map[string]string{
		"address": r.Server, "ca": r.caSource,
	}}
	if r.TLSServerName != "" {
		c.Details["tls_server_name"] = r.TLSServerName
	}
	if len(r.ignoredEnv) > 0 {
		c.Details["ignored_env"] = strings.Join(r.ignoredEnv, ",")
	}
	c.Status, c.Message, c.Fix = run.reach(ctx)
	if run.health != nil {
		maps.Copy(c.Details, run.health.details())
	}
	if c.Status != Pass {
		run.blocked = "Vault is not usable from the operator (see vault.reachable)"
	}
	run.report.add(c)
}

// reach does the work of step 1 and sets up the clients of later steps.
func (run *runner) reach(ctx context.Context) (Status, string, string) {
	r := run.r
	u, err := parseServer(r.Server)
	if err != nil {
		return Fail, err.Error(), "fix vault.server in the inventory"
	}
	run.u = u
	if run.tlsConf, err = r.tlsConfig(u); err != nil {
		return Fail, "cannot load the CA: " + err.Error(), "point vault.ca_cert (or VAULT_CACERT) at a readable PEM file"
	}
	run.httpc = &http.Client{Timeout: r.reqTimeout, Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: r.reqTimeout}).DialContext,
		TLSClientConfig:     run.tlsConf,
		TLSHandshakeTimeout: r.reqTimeout,
	}}
	h, err := operatorHealth(ctx, run.httpc, u)
	if err != nil {
		p := describeConnErr(err, u.hostPort)
		return Fail, fmt.Sprintf("cannot reach Vault at %s: %s", r.Server, p.cause), p.fix
	}
	run.health = h
	if p := h.problem(r.Server); p != "" {
		return Fail, p, "unseal or initialize Vault (vault operator unseal), then run the check again"
	}
	if run.vault, err = newVaultClient(u, run.httpc); err != nil {
		return Fail, "cannot set up the Vault client: " + err.Error(), "check the VAULT_* environment variables"
	}
	how := "TLS verified with the CA from " + r.caSource
	switch {
	case !u.useTLS:
		how = "plain HTTP, no TLS"
	case r.caSource == "system roots":
		how = "TLS verified with the system roots"
	}
	return Pass, fmt.Sprintf("Vault %s at %s: %s (%s)", h.body.Version, r.Server, h.state(), how), ""
}

// newVaultClient returns an API client that sends exactly what the nodes
// will send: no token, namespace or headers from VAULT_* variables, no
// retries (so a failure is reported at once, as it happened).
func newVaultClient(u *vaultURL, hc *http.Client) (*api.Client, error) {
	cfg := &api.Config{Address: u.String(), HttpClient: hc, MaxRetries: 0}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.ClearToken()
	c.ClearNamespace()
	c.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	return c, nil
}

// checkNamespace warns about namespaces on open-source Vault, which ignores
// X-Vault-Namespace silently: the configuration would not mean what it says,
// but the nodes would still work (in the root namespace), so it is a Warn.
func (run *runner) checkNamespace() {
	const id, title = "vault.namespace", "Vault namespaces"
	ns := run.r.namespaces()
	if len(ns) == 0 {
		run.report.add(Check{ID: id, Title: title, Status: Pass, Message: "no namespace configured"})
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ns)) {
		parts = append(parts, fmt.Sprintf("%s namespace %q", k, ns[k]))
	}
	list := strings.Join(parts, ", ")
	switch {
	case run.health == nil:
		run.report.add(skipped(id, title, "sys/health unknown, cannot tell whether Vault supports namespaces"))
	case !run.health.body.Enterprise:
		run.report.add(Check{ID: id, Title: title, Status: Warn,
			Message: fmt.Sprintf("%s set, but Vault at %s is open-source (sys/health: enterprise=false): namespaces are a Vault Enterprise feature and open-source Vault silently ignores X-Vault-Namespace, so the nodes would use the root namespace", list, run.r.Server),
			Fix:     "remove namespace from vault.approle / vault.kubernetes and vault.transit in the inventory, or point vault.server at the Vault Enterprise cluster that has the namespace"})
	default:
		run.report.add(Check{ID: id, Title: title, Status: Pass, Message: list + " (Vault Enterprise)"})
	}
}
