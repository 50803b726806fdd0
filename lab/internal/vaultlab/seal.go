package vaultlab

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
)

// pollInterval paces the loops that wait for Vault to change state.
const pollInterval = 100 * time.Millisecond

// errExited is returned while waiting when Vault died during start-up
// (a port in use, a bad certificate: the log says which).
var errExited = errors.New("vaultlab: vault exited during start-up")

// waitListening polls sys/health on the TLS listener until Vault answers
// (in any state) and returns that answer.
func (s *Server) waitListening(ctx context.Context) (*api.HealthResponse, error) {
	c, err := s.Client("")
	if err != nil {
		return nil, err
	}
	for {
		if s.proc != nil && !s.proc.alive() {
			return nil, errExited
		}
		try, cancel := context.WithTimeout(ctx, 2*time.Second)
		h, err := c.Sys().HealthWithContext(try)
		cancel()
		if err == nil {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("vaultlab: vault not answering on %s: %w", s.cfg.Addr, err)
		case <-time.After(pollInterval):
		}
	}
}

// initialize runs sys/init with a single key share and stores the unseal
// key and root token in SecretsDir (0600). Doing it here instead of in
// dev mode keeps both out of the log.
func (s *Server) initialize(ctx context.Context) error {
	c, err := s.Client("")
	if err != nil {
		return err
	}
	res, err := c.Sys().InitWithContext(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		return fmt.Errorf("vaultlab: initialise vault: %w", err)
	}
	if len(res.KeysB64) != 1 || res.RootToken == "" {
		return errors.New("vaultlab: initialise vault: unexpected answer")
	}
	if err := writeSecret(s.cfg.SecretPath(UnsealKeyFile), res.KeysB64[0]); err != nil {
		return err
	}
	return writeSecret(s.cfg.SecretPath(RootTokenFile), res.RootToken)
}

// Unseal unseals Vault with the key in SecretsDir and waits until it is
// active again: the heal for the "Vault sealed" fault. Unsealing an
// unsealed Vault is a no-op.
func (s *Server) Unseal(ctx context.Context) error {
	key, err := readSecret(s.cfg.SecretPath(UnsealKeyFile))
	if err != nil {
		return err
	}
	c, err := s.Client("")
	if err != nil {
		return err
	}
	if _, err := c.Sys().UnsealWithContext(ctx, key); err != nil {
		return fmt.Errorf("vaultlab: unseal: %w", err)
	}
	return s.waitActive(ctx, c)
}

// waitActive polls sys/health until Vault is unsealed and active, because
// it answers requests only once its mounts are loaded.
func (s *Server) waitActive(ctx context.Context, c *api.Client) error {
	for {
		h, err := c.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed && !h.Standby {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("vaultlab: vault not active after unseal: %w", ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Seal seals Vault with the root token: the "Vault sealed" fault. Vault
// keeps running and answers 503 "Vault is sealed" until Unseal.
func (s *Server) Seal(ctx context.Context) error {
	c, err := s.RootClient()
	if err != nil {
		return err
	}
	if err := c.Sys().SealWithContext(ctx); err != nil {
		return fmt.Errorf("vaultlab: seal: %w", err)
	}
	return nil
}

// Status is what `lab status` shows about Vault.
type Status struct {
	// PID is Vault's process id; 0 when not running.
	PID int
	// Answering is true when Vault answered sys/health.
	Answering bool
	// Initialized and Sealed are Vault's own answer (valid if Answering).
	Initialized, Sealed bool
}

// Status reports whether Vault runs, answers and is sealed.
func (s *Server) Status(ctx context.Context) (Status, error) {
	var st Status
	p, err := findProc(s.cfg)
	if err != nil {
		return st, err
	}
	if p == nil {
		return st, nil
	}
	st.PID = p.pid
	c, err := s.Client("")
	if err != nil {
		return st, err
	}
	try, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h, err := c.Sys().HealthWithContext(try)
	if err != nil {
		return st, nil // running but not answering: a valid status
	}
	st.Answering, st.Initialized, st.Sealed = true, h.Initialized, h.Sealed
	return st, nil
}
