package vaultlab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// VaultVersion is the Vault release lab/vault builds: the newest one that
// compiles as an ordinary module dependency (see issue 2).
const VaultVersion = "v1.21.1"

// DefaultDevAddr is where dev mode's plain-HTTP listener goes when
// Config.DevAddr is empty: loopback only, and away from 8200 so that
// https://127.0.0.1:8200 never meets a plain-HTTP port.
const DefaultDevAddr = "127.0.0.1:8210"

// Names of the files Start and Setup write into Config.SecretsDir; they are
// the names docs/design.md fixes for DIR/secrets.
const (
	RootTokenFile      = "vault-root-token"
	UnsealKeyFile      = "vault-unseal-key"
	ApproleSecretFile  = "approle-secret-id"
	Approle2SecretFile = "approle2-secret-id"
	NoHMACSecretFile   = "nohmac-secret-id"
	RotateSecretFile   = "rotate-secret-id"
	K8sJWTFile         = "k8s-jwt"
)

// Config says where the lab's Vault lives and which certificates it uses.
// Start, Open and the Server methods need nothing else, so a later `lab`
// invocation can act on a Vault started by an earlier one.
type Config struct {
	// Dir holds the Vault config, storage (Dir/data), log and pid file
	// (DIR/vault in the lab).
	Dir string
	// SecretsDir receives the 0600 secret files (DIR/secrets).
	SecretsDir string
	// Binary is the Vault executable; empty means BinaryPath().
	Binary string
	// Addr is the TLS listener, host:port (10.213.0.1:8200 in the lab).
	Addr string
	// DevAddr is dev mode's plain-HTTP listener; empty means DefaultDevAddr.
	// It must be a loopback address.
	DevAddr string
	// CertFile and KeyFile are Vault's TLS certificate and key; the
	// certificate must name Addr's host.
	CertFile, KeyFile string
	// CAFile is the lab CA: clients use it to trust Vault, and the
	// kubernetes auth mount uses it to trust the TokenReview endpoint.
	CAFile string
	// K8sAddr is the lab's TokenReview endpoint, host:port
	// (10.213.0.1:8443 in the lab).
	K8sAddr string
}

// BinaryPath is where the lab caches the Vault binary between runs, so the
// nine-minute build happens once per machine:
// ${KMSCTL_LAB_CACHE:-/var/cache/kmsctl-lab}/vault-v1.21.1.
func BinaryPath() string {
	dir := os.Getenv("KMSCTL_LAB_CACHE")
	if dir == "" {
		dir = "/var/cache/kmsctl-lab"
	}
	return filepath.Join(dir, "vault-"+VaultVersion)
}

// withDefaults fills the optional fields and checks the required ones, so
// every entry point validates the same way.
func (c Config) withDefaults() (Config, error) {
	if c.Binary == "" {
		c.Binary = BinaryPath()
	}
	if c.DevAddr == "" {
		c.DevAddr = DefaultDevAddr
	}
	required := map[string]string{
		"Dir": c.Dir, "SecretsDir": c.SecretsDir, "Addr": c.Addr,
		"CertFile": c.CertFile, "KeyFile": c.KeyFile, "CAFile": c.CAFile,
	}
	for name, v := range required {
		if v == "" {
			return c, fmt.Errorf("vaultlab: config field %s is empty", name)
		}
	}
	if err := checkLoopback(c.DevAddr); err != nil {
		return c, err
	}
	return c, nil
}

// checkLoopback refuses a dev listener outside loopback: it is plain HTTP
// and carries the root token when used.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("vaultlab: dev address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("vaultlab: dev address " + addr + " is not a loopback IP")
	}
	return nil
}

// URL is the address clients use: https on the TLS listener.
func (c Config) URL() string { return "https://" + c.Addr }

func (c Config) configPath() string { return filepath.Join(c.Dir, "vault.json") }
func (c Config) logPath() string    { return filepath.Join(c.Dir, "vault.log") }
func (c Config) pidPath() string    { return filepath.Join(c.Dir, "vault.pid") }
func (c Config) dataPath() string   { return filepath.Join(c.Dir, "data") }

// SecretPath is the full path of one of the secret files named above.
func (c Config) SecretPath(name string) string { return filepath.Join(c.SecretsDir, name) }
