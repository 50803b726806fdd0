package vaultlab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeSecret stores one secret as a 0600 file, atomically, so a reader
// (or a crash) never sees half a token. Errors name the file, never the
// secret.
func writeSecret(path, value string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("vaultlab: create secrets dir: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("vaultlab: write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(value + "\n")
	cerr := f.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("vaultlab: write %s: %v %v", path, werr, cerr)
	}
	// CreateTemp already makes the file 0600; say so explicitly because
	// the mode is the point of this function.
	if err := os.Chmod(tmp, 0o600); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("vaultlab: chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("vaultlab: install %s: %w", path, err)
	}
	return nil
}

// readSecret reads a secret file written by writeSecret.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("vaultlab: read secret: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("vaultlab: secret file %s is empty", path)
	}
	return v, nil
}
