package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
)

// vaultPreflight runs the checks of `kmsctl vault check` (from the operator
// and from every node) on the run's Vault settings. It returns the
// warnings, and fails with the failed checks' messages.
func vaultPreflight(ctx context.Context, sess *hsmSession, vault configedit.VaultSettings, secrets inventory.SecretOptions, parallel int) ([]string, error) {
	cfg, err := vaultCheckConfig(ctx, sess, vault, secrets)
	if err != nil {
		return nil, err
	}
	rep, err := vaultcheck.Run(ctx, cfg, sess.conns, vaultcheck.Options{Parallel: parallel})
	if err != nil {
		return nil, err
	}
	var warnings, failures []string
	for _, c := range rep.Checks {
		m := c.Message
		if c.Node != "" {
			m = "node " + c.Node + ": " + m
		}
		switch c.Status {
		case vaultcheck.Warn:
			warnings = append(warnings, m)
		case vaultcheck.Fail:
			failures = append(failures, m)
		}
	}
	if len(failures) > 0 {
		return warnings, fmt.Errorf("Vault checks failed (run `kmsctl vault check` for details): %s", strings.Join(failures, "; "))
	}
	return warnings, nil
}

// vaultCheckConfig adds to the run's Vault settings what only the check
// needs: the operator's CA and TLS name, and for kubernetes the token the
// nodes will present.
func vaultCheckConfig(ctx context.Context, sess *hsmSession, vault configedit.VaultSettings, secrets inventory.SecretOptions) (vaultcheck.Config, error) {
	v := sess.inv.Vault
	if v == nil {
		return vaultcheck.Config{}, errors.New("no vault section in the inventory")
	}
	cfg := vaultcheck.Config{VaultSettings: vault, CACertFile: v.CACert, TLSServerName: v.TLSServerName}
	if vault.Kubernetes != nil {
		jwt, err := kubernetesJWT(ctx, sess, secrets)
		if err != nil {
			return cfg, err
		}
		cfg.KubernetesToken = jwt
	}
	return cfg, nil
}

// kubernetesJWT reads the service account token: the operator's local copy
// (jwt_file) when given, else the file the nodes use, from the first node.
func kubernetesJWT(ctx context.Context, sess *hsmSession, secrets inventory.SecretOptions) (string, error) {
	k := sess.inv.Vault.Kubernetes
	if k.JWTFile != "" {
		b, err := inventory.Secret{Name: "vault.kubernetes jwt_file", File: k.JWTFile}.Read(secrets)
		return strings.TrimSpace(string(b)), err
	}
	if len(sess.conns) == 0 {
		return "", errors.New("vault.kubernetes: no jwt_file and no node to read the token from")
	}
	b, _, err := sess.conns[0].ReadFile(ctx, k.JWT)
	if err != nil {
		return "", fmt.Errorf("vault.kubernetes.jwt: read %s on node %s: %w", k.JWT, sess.conns[0].Name(), err)
	}
	return strings.TrimSpace(string(b)), nil
}
