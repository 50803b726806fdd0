package vaultlab

import (
	"fmt"

	"github.com/hashicorp/vault/api"
)

// newClient returns a Vault API client for cfg's TLS listener that trusts
// only the lab CA and ignores the caller's VAULT_* environment, so the lab
// behaves the same from any shell. token may be empty.
func newClient(cfg Config, token string) (*api.Client, error) {
	conf := api.DefaultConfig()
	conf.Address = cfg.URL()
	// Callers (and tests) must see Vault's first answer, e.g. a 503 while
	// sealed, not a retried one.
	conf.MaxRetries = 0
	if err := conf.ConfigureTLS(&api.TLSConfig{CACert: cfg.CAFile}); err != nil {
		return nil, fmt.Errorf("vaultlab: vault client TLS: %w", err)
	}
	c, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("vaultlab: vault client: %w", err)
	}
	c.ClearNamespace()
	if token == "" {
		c.ClearToken()
	} else {
		c.SetToken(token)
	}
	return c, nil
}

// Client returns a Vault API client for the lab Vault authenticated with
// token (empty: unauthenticated, e.g. for logins), trusting the lab CA.
func (s *Server) Client(token string) (*api.Client, error) {
	return newClient(s.cfg, token)
}

// RootClient returns a client holding the root token from SecretsDir, for
// the lab's own administration (set-up, seal); kmsctl never gets it.
func (s *Server) RootClient() (*api.Client, error) {
	token, err := readSecret(s.cfg.SecretPath(RootTokenFile))
	if err != nil {
		return nil, err
	}
	return newClient(s.cfg, token)
}
