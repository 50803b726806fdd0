package cmd

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// apiClientFor builds the key manager API client of one node. It dials
// through the node's SSH connection, so the API on the node's loopback is
// reachable without opening its port to the operator.
func apiClientFor(newAPI func(kmsapi.DialFunc, string, kmsapi.Options) (NodeAPI, error), conn remote.Node, n inventory.Node, apiKey string) (NodeAPI, error) {
	opts := kmsapi.Options{APIKey: apiKey, ServerName: n.APIServerName}
	if n.APICACert != "" {
		pem, err := os.ReadFile(n.APICACert)
		if err != nil {
			return nil, fmt.Errorf("api_ca_cert: %w", err)
		}
		opts.RootCAs = x509.NewCertPool()
		if !opts.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api_ca_cert %s: no PEM certificate", n.APICACert)
		}
	}
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) { return conn.DialTCP(ctx, addr) }
	return newAPI(dial, n.API, opts)
}
