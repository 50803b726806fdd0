package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
)

// vaultPreflight runs the checks of `kmsctl vault check` (from the operator
// and from every node). It returns the warnings, and fails with the failed
// checks' messages.
func vaultPreflight(ctx context.Context, sess *hsmSession, secrets inventory.SecretOptions, parallel int) ([]string, error) {
	cfg, err := hsmPreflightConfig(ctx, sess, secrets)
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

// hsmPreflightConfig maps the inventory onto the preflight's Config.
func hsmPreflightConfig(ctx context.Context, sess *hsmSession, secrets inventory.SecretOptions) (vaultcheck.Config, error) {
	v := sess.inv.Vault
	if v == nil {
		return vaultcheck.Config{}, errors.New("no vault section in the inventory")
	}
	cfg := vaultcheck.Config{Server: v.Server, CACertFile: v.CACert, TLSServerName: v.TLSServerName,
		Transit: vaultcheck.Transit{Key: v.Transit.Key, Path: v.Transit.MountPath(), Namespace: v.Transit.Namespace}}
	switch {
	case v.AppRole != nil:
		secret, err := v.AppRole.Secret().Read(secrets)
		if err != nil {
			return cfg, err
		}
		cfg.AppRole = &vaultcheck.AppRole{ID: v.AppRole.ID, Secret: string(secret), Path: v.AppRole.MountPath(), Namespace: v.AppRole.Namespace}
	case v.Kubernetes != nil:
		jwt, err := kubernetesJWT(ctx, sess, secrets)
		if err != nil {
			return cfg, err
		}
		k := v.Kubernetes
		cfg.Kubernetes = &vaultcheck.Kubernetes{Role: k.Role, JWT: jwt, Path: k.MountPath(), Namespace: k.Namespace}
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
