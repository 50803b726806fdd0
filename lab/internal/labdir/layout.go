// Package labdir knows the layout of the lab directory DIR (docs/design.md, "The
// lab directory DIR") and writes the files other tools read from it: state.json,
// env.sh, the inventories, ssh_config and known_hosts.
package labdir

import (
	"os"
	"path/filepath"
)

// DefaultDir is where a lab lives when neither --dir nor KMSCTL_LAB_DIR says otherwise.
const DefaultDir = "/tmp/kmslab"

// Resolve picks the lab directory: the flag, then $KMSCTL_LAB_DIR, then DefaultDir.
// It returns an absolute path because nodes and ssh_config need absolute paths.
func Resolve(flag string) (string, error) {
	dir := flag
	if dir == "" {
		dir = os.Getenv("KMSCTL_LAB_DIR")
	}
	if dir == "" {
		dir = DefaultDir
	}
	return filepath.Abs(dir)
}

// Layout names every path inside DIR so that no caller spells one by hand.
type Layout struct{ Root string }

// Path joins elements under DIR.
func (l Layout) Path(elem ...string) string {
	return filepath.Join(append([]string{l.Root}, elem...)...)
}

// Inventory is the root inventory; InventorySudo and InventorySudoPW use sudo users.
func (l Layout) Inventory() string       { return l.Path("inventory.yaml") }
func (l Layout) InventorySudo() string   { return l.Path("inventory-sudo.yaml") }
func (l Layout) InventorySudoPW() string { return l.Path("inventory-sudopw.yaml") }
func (l Layout) SSHConfig() string       { return l.Path("ssh_config") }
func (l Layout) KnownHosts() string      { return l.Path("known_hosts") }
func (l Layout) ClientKey() string       { return l.Path("id_ed25519") }
func (l Layout) EnvFile() string         { return l.Path("env.sh") }
func (l Layout) CACert() string          { return l.Path("ca", "ca.pem") }
func (l Layout) CAKey() string           { return l.Path("ca", "ca.key") }
func (l Layout) VaultDir() string        { return l.Path("vault") }
func (l Layout) StateFile() string       { return l.Path("state.json") }

// BinDir holds the stand-in binary; it is bind-mounted read-only on every node's
// /usr/local/bin (a directory, never a file).
func (l Layout) BinDir() string { return l.Path("bin") }

// Secret is a 0600 file under DIR/secrets.
func (l Layout) Secret(name string) string { return l.Path("secrets", name) }

// NodeDir holds a node's overlay upper/work dirs and its console log.
func (l Layout) NodeDir(name string) string { return l.Path("nodes", name) }

// Secret file names, shared with the Vault set-up and the tests.
const (
	SecretKmspwPassword = "kmspw-password"
	SecretAPIKey        = "api-key"
	SecretApprole       = "approle-secret-id"
	SecretApprole2      = "approle2-secret-id"
	SecretNoHMAC        = "nohmac-secret-id"
	SecretRotate        = "rotate-secret-id"
	SecretK8sJWT        = "k8s-jwt"
	SecretHSMKey        = "hsm-key"
)

// Mkdirs creates DIR and its fixed sub-directories with safe modes.
func (l Layout) Mkdirs() error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{l.Root, 0o755}, {l.Path("ca"), 0o755}, {l.Path("secrets"), 0o700},
		{l.VaultDir(), 0o755}, {l.Path("nodes"), 0o755}, {l.BinDir(), 0o755}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return err
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return err
		}
	}
	return nil
}

// WriteSecret writes a secret with mode 0600 and no trailing newline.
func (l Layout) WriteSecret(name, value string) error {
	return WriteFileAtomic(l.Secret(name), []byte(value), 0o600)
}

// ReadSecret reads a secret written by WriteSecret (or by the Vault set-up).
func (l Layout) ReadSecret(name string) (string, error) {
	b, err := os.ReadFile(l.Secret(name))
	return string(b), err
}

// WriteFileAtomic writes through a temporary file and a rename, so readers never
// see a half-written state.json or inventory.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
