package vaultlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles Vault from repoLabDir/vault into BinaryPath(), but only when
// that file is missing: a cold build takes about nine minutes and 6 GB, so it
// must happen once per machine, never per lab start. Build output goes to
// the caller's stderr so a long first build shows progress.
func Build(ctx context.Context, repoLabDir string) error {
	dst := BinaryPath()
	if _, err := os.Stat(dst); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vaultlab: stat %s: %w", dst, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("vaultlab: create cache dir: %w", err)
	}
	tmp := dst + ".building"
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, ".")
	cmd.Dir = filepath.Join(repoLabDir, "vault")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("vaultlab: build vault in %s: %w", cmd.Dir, err)
	}
	// Rename last, so a killed build never leaves a truncated binary
	// where the next run would take it for a finished one.
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("vaultlab: install vault binary: %w", err)
	}
	return nil
}
