package vaultlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// startTimeout bounds how long Start waits for Vault to answer and unseal;
// it normally takes well under two seconds.
const startTimeout = 60 * time.Second

// ErrNoBinary means the Vault binary is not built yet (see Build); tests
// use it to skip rather than fail.
var ErrNoBinary = errors.New("vaultlab: vault binary missing (run Build)")

// Server is a handle on the lab's Vault. It holds no secrets: the root
// token and unseal key are read from SecretsDir when needed, so a handle
// from Open in a later process works as well as the one Start returned.
type Server struct {
	cfg  Config
	proc *proc // set by Start; otherwise found through the pid file
}

// Open returns a handle on the Vault described by cfg without starting
// it, for `lab down`, `fault`, `heal` and `status`, which run after the
// `lab up` that started it has exited.
func Open(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg}, nil
}

// Start runs Vault detached and returns once it is initialised, unsealed
// and active. On first start it initialises Vault (writing the unseal key
// and root token into SecretsDir); on later starts (after Stop, or a
// `vault stop` fault) it finds its file storage and unseals it, so every
// key and role survives. It refuses to start a second Vault.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// start is Start on an existing handle (Restart uses it too).
func (s *Server) start(ctx context.Context) error {
	if _, err := os.Stat(s.cfg.Binary); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNoBinary, s.cfg.Binary)
	}
	if p, err := findProc(s.cfg); err != nil {
		return err
	} else if p != nil {
		return fmt.Errorf("vaultlab: vault already running (pid %d)", p.pid)
	}
	if err := s.writeConfig(); err != nil {
		return err
	}
	p, err := spawn(s.cfg)
	if err != nil {
		return err
	}
	s.proc = p
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := s.bringUp(ctx); err != nil {
		_ = s.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("%w (log: %s)", err, s.cfg.logPath())
	}
	return nil
}

// bringUp waits for the listener, initialises if needed and unseals.
func (s *Server) bringUp(ctx context.Context) error {
	h, err := s.waitListening(ctx)
	if err != nil {
		return err
	}
	if !h.Initialized {
		if err := s.initialize(ctx); err != nil {
			return err
		}
	}
	return s.Unseal(ctx)
}

// writeConfig writes Vault's JSON config: file storage (so a stop keeps
// the data) and the TLS listener; dev mode adds its loopback listener.
func (s *Server) writeConfig() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("vaultlab: create %s: %w", s.cfg.Dir, err)
	}
	conf := map[string]any{
		"storage": map[string]any{"file": map[string]any{"path": s.cfg.dataPath()}},
		"listener": map[string]any{"tcp": map[string]any{
			"address":       s.cfg.Addr,
			"tls_cert_file": s.cfg.CertFile,
			"tls_key_file":  s.cfg.KeyFile,
		}},
		"api_addr":      s.cfg.URL(),
		"disable_mlock": true,
		"ui":            false,
		"log_level":     "info",
		// Vault locks a role id out after 5 failed logins in 15 minutes;
		// the lab's tests fail logins on purpose (wrong secret ids on the
		// nodes), which would lock later tests out of the same roles.
		"user_lockout": map[string]any{"all": map[string]any{"disable_lockout": true}},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("vaultlab: encode vault config: %w", err)
	}
	if err := os.WriteFile(s.cfg.configPath(), b, 0o600); err != nil {
		return fmt.Errorf("vaultlab: write vault config: %w", err)
	}
	return nil
}

// URL is the https address of the lab Vault (VAULT_ADDR in env.sh).
func (s *Server) URL() string { return s.cfg.URL() }

// Config returns the handle's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Stop terminates Vault (SIGTERM to its process group, SIGKILL after a
// grace period) and waits until it is gone: clients then get "connection
// refused", the truthful "Vault stopped" fault. Storage stays on disk, so
// Start (or Restart) brings back every key. Stopping a stopped Vault is
// not an error, so `lab down` can always call it.
func (s *Server) Stop(ctx context.Context) error {
	p := s.proc
	if p == nil || !p.alive() {
		found, err := findProc(s.cfg)
		if err != nil {
			return err
		}
		p = found
	}
	if p != nil {
		if err := p.terminate(ctx); err != nil {
			return err
		}
	}
	s.proc = nil
	if err := os.Remove(s.cfg.pidPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vaultlab: remove pid file: %w", err)
	}
	return nil
}

// Restart stops Vault and starts it again on the same storage, unsealed:
// the heal for the "Vault stopped" fault when the handle is at hand.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.start(ctx)
}
