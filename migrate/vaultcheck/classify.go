package vaultcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/vault/api"
)

// connProblem is a connection failure translated for the operator: what
// happened and what to change.
type connProblem struct {
	cause string
	fix   string
}

// describeConnErr names the usual ways a connection to Vault fails. It
// works on errors from net, crypto/tls, net/http and from SSH channels
// (whose errors are plain strings such as "connect failed (Connection refused)").
func describeConnErr(err error, hostPort string) connProblem {
	var (
		unknownCA x509.UnknownAuthorityError
		badHost   x509.HostnameError
		invalid   x509.CertificateInvalidError
		notTLS    tls.RecordHeaderError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	lower := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &unknownCA):
		return connProblem{"TLS: Vault's certificate is signed by an unknown authority",
			"set vault.ca_cert in the inventory (or VAULT_CACERT) to the PEM file of the CA that signed Vault's certificate"}
	case errors.As(err, &badHost):
		return connProblem{"TLS: " + badHost.Error(),
			"use a name or address that Vault's certificate covers in vault.server, or set vault.tls_server_name"}
	case errors.As(err, &invalid):
		return connProblem{"TLS: " + invalid.Error(), "renew Vault's certificate"}
	case errors.As(err, &notTLS):
		return connProblem{"TLS: the server at " + hostPort + " does not speak TLS",
			"check the port, or use http:// in vault.server if Vault really listens without TLS"}
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(lower, "connection refused"):
		return connProblem{"connection refused: nothing listens on " + hostPort,
			"start Vault, or fix the address and port in vault.server"}
	case errors.Is(err, syscall.EHOSTUNREACH) || strings.Contains(lower, "no route to host"):
		return connProblem{"no route to host " + hostPort, "check routing and firewalls between this host and Vault"}
	case errors.Is(err, syscall.ENETUNREACH) || strings.Contains(lower, "network is unreachable"):
		return connProblem{"network unreachable for " + hostPort, "check routing between this host and Vault"}
	case errors.As(err, &dnsErr):
		return connProblem{"cannot resolve " + dnsErr.Name, "fix the host name in vault.server or the DNS configuration"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) ||
		strings.Contains(lower, "timed out") || strings.Contains(lower, "timeout"):
		return connProblem{"timed out connecting to " + hostPort, "check firewalls between this host and Vault (traffic is dropped)"}
	case strings.Contains(lower, "connection reset"):
		return connProblem{"connection reset by " + hostPort, "check that Vault (and not a proxy) listens there"}
	}
	return connProblem{err.Error(), ""}
}

// vaultErr is an error answer of the Vault API.
type vaultErr struct {
	status int
	msgs   []string
}

// asVaultErr extracts Vault's status and error strings, if err is one.
func asVaultErr(err error) (vaultErr, bool) {
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return vaultErr{}, false
	}
	return vaultErr{status: re.StatusCode, msgs: re.Errors}, true
}

// has reports whether any of Vault's messages contains s.
func (e vaultErr) has(s string) bool {
	for _, m := range e.msgs {
		if strings.Contains(strings.ToLower(m), s) {
			return true
		}
	}
	return false
}

// text is "403 permission denied" style: status and Vault's own messages.
func (e vaultErr) text() string {
	s := strconv.Itoa(e.status)
	if len(e.msgs) > 0 {
		s += " " + strings.Join(e.msgs, "; ")
	}
	return s
}
