package vaultlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Creds is what Setup hands to the lab for env.sh and the inventories:
// role ids (not secret) and the paths of the 0600 secret files.
type Creds struct {
	// ApproleID / ApproleSecretFile: role minkms at approle/.
	ApproleID, ApproleSecretFile string
	// Approle2ID / Approle2SecretFile: role minkms2 at kms-approle/.
	Approle2ID, Approle2SecretFile string
	// NoHMACRoleID / NoHMACSecretFile: role minkms-nohmac at approle/.
	NoHMACRoleID, NoHMACSecretFile string
	// RotateRoleID / RotateSecretFile: role minkms-rotate at approle/ (the
	// rotation identity of kmsctl hsm rotate).
	RotateRoleID, RotateSecretFile string
	// K8sRole is the kubernetes auth role; K8sJWTFile holds the service
	// account token (copied to /etc/minkms/k8s-token on the nodes).
	K8sRole, K8sJWTFile string
	// RootTokenFile is for lab administration only (VAULT_TOKEN_FILE).
	RootTokenFile string
}

// Setup configures Vault exactly as docs/design.md "Vault set-up (lab)"
// says: two transit mounts with the sealing key, the three policies, the
// approle mounts and roles, and kubernetes auth against the lab's
// TokenReview endpoint. It is idempotent (a second run changes nothing
// but issues fresh secret IDs) and writes the secret files into SecretsDir.
func (s *Server) Setup(ctx context.Context) (*Creds, error) {
	if s.cfg.K8sAddr == "" {
		return nil, errors.New("vaultlab: config field K8sAddr is empty")
	}
	c, err := s.RootClient()
	if err != nil {
		return nil, err
	}
	steps := []func(context.Context, *api.Client) error{
		setupTransit, setupPolicies, setupApproles, s.setupKubernetes,
	}
	for _, step := range steps {
		if err := step(ctx, c); err != nil {
			return nil, err
		}
	}
	return s.issueCreds(ctx, c)
}

// setupTransit mounts both transit engines and creates the sealing key.
func setupTransit(ctx context.Context, c *api.Client) error {
	for _, mount := range []string{TransitMount, Transit2Mount} {
		if err := ensureMount(ctx, c, mount, "transit"); err != nil {
			return err
		}
		if err := ensureKey(ctx, c, mount, KeyName); err != nil {
			return err
		}
	}
	return nil
}

// ensureMount enables a secrets engine unless it is already there.
func ensureMount(ctx context.Context, c *api.Client, path, kind string) error {
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vaultlab: list mounts: %w", err)
	}
	if m, ok := mounts[path+"/"]; ok {
		if m.Type != kind {
			return fmt.Errorf("vaultlab: mount %s/ is %s, want %s", path, m.Type, kind)
		}
		return nil
	}
	if err := c.Sys().MountWithContext(ctx, path, &api.MountInput{Type: kind}); err != nil {
		return fmt.Errorf("vaultlab: mount %s at %s/: %w", kind, path, err)
	}
	return nil
}

// ensureKey creates an aes256-gcm96 transit key unless it exists; an
// existing key of another type is an error, never silently replaced.
func ensureKey(ctx context.Context, c *api.Client, mount, key string) error {
	path := mount + "/keys/" + key
	sec, err := c.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return fmt.Errorf("vaultlab: read %s: %w", path, err)
	}
	if sec != nil {
		if t, _ := sec.Data["type"].(string); t != KeyType {
			return fmt.Errorf("vaultlab: %s has type %q, want %s", path, t, KeyType)
		}
		return nil
	}
	if _, err := c.Logical().WriteWithContext(ctx, path, map[string]any{"type": KeyType}); err != nil {
		return fmt.Errorf("vaultlab: create %s: %w", path, err)
	}
	return nil
}

// setupPolicies writes the lab's three policies.
func setupPolicies(ctx context.Context, c *api.Client) error {
	for name, hcl := range labPolicies() {
		if err := c.Sys().PutPolicyWithContext(ctx, name, hcl); err != nil {
			return fmt.Errorf("vaultlab: write policy %s: %w", name, err)
		}
	}
	return nil
}

// approleRoles lists mount, role and policy of every lab approle role.
var approleRoles = []struct{ mount, role, policy string }{
	{ApproleMount, RoleMinkms, PolicyMinkms},
	{Approle2Mount, RoleMinkms2, Policy2},
	{ApproleMount, RoleNoHMAC, PolicyNoHMAC},
	{ApproleMount, RoleRotate, PolicyRotate},
}

// setupApproles enables both approle mounts and writes the roles.
func setupApproles(ctx context.Context, c *api.Client) error {
	for _, r := range approleRoles {
		if err := ensureAuth(ctx, c, r.mount, "approle"); err != nil {
			return err
		}
		path := "auth/" + r.mount + "/role/" + r.role
		if _, err := c.Logical().WriteWithContext(ctx, path, map[string]any{"token_policies": []string{r.policy}}); err != nil {
			return fmt.Errorf("vaultlab: write %s: %w", path, err)
		}
	}
	return nil
}

// ensureAuth enables an auth method unless it is already there.
func ensureAuth(ctx context.Context, c *api.Client, path, kind string) error {
	auths, err := c.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vaultlab: list auth mounts: %w", err)
	}
	if m, ok := auths[path+"/"]; ok {
		if m.Type != kind {
			return fmt.Errorf("vaultlab: auth mount %s/ is %s, want %s", path, m.Type, kind)
		}
		return nil
	}
	if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, path, &api.EnableAuthOptions{Type: kind}); err != nil {
		return fmt.Errorf("vaultlab: enable %s auth at %s/: %w", kind, path, err)
	}
	return nil
}

// setupKubernetes enables kubernetes auth, points it at the lab's
// TokenReview endpoint (trusted through the lab CA, no local pod files),
// binds role minkms to minio/minkms and ensures the JWT file exists.
func (s *Server) setupKubernetes(ctx context.Context, c *api.Client) error {
	if err := ensureAuth(ctx, c, K8sMount, "kubernetes"); err != nil {
		return err
	}
	ca, err := os.ReadFile(s.cfg.CAFile)
	if err != nil {
		return fmt.Errorf("vaultlab: read lab CA: %w", err)
	}
	writes := []struct {
		path string
		data map[string]any
	}{
		{"auth/" + K8sMount + "/config", map[string]any{
			"kubernetes_host": "https://" + s.cfg.K8sAddr, "kubernetes_ca_cert": string(ca),
			"disable_local_ca_jwt": true,
		}},
		{"auth/" + K8sMount + "/role/" + RoleMinkms, map[string]any{
			"bound_service_account_names":      []string{K8sServiceAccount},
			"bound_service_account_namespaces": []string{K8sNamespace},
			"token_policies":                   []string{PolicyMinkms},
		}},
	}
	for _, w := range writes {
		if _, err := c.Logical().WriteWithContext(ctx, w.path, w.data); err != nil {
			return fmt.Errorf("vaultlab: write %s: %w", w.path, err)
		}
	}
	return s.ensureJWT()
}

// ensureJWT mints the lab's service account token unless the file exists:
// a running TokenReview endpoint knows the existing one.
func (s *Server) ensureJWT() error {
	path := s.cfg.SecretPath(K8sJWTFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vaultlab: stat %s: %w", path, err)
	}
	sa, err := NewServiceAccount(K8sNamespace, K8sServiceAccount)
	if err != nil {
		return err
	}
	token, err := MintServiceAccountJWT(sa)
	if err != nil {
		return err
	}
	return writeSecret(path, token)
}

// issueCreds reads each approle role id, issues a fresh secret id into
// its 0600 file, and collects the paths.
func (s *Server) issueCreds(ctx context.Context, c *api.Client) (*Creds, error) {
	cr := &Creds{
		ApproleSecretFile:  s.cfg.SecretPath(ApproleSecretFile),
		Approle2SecretFile: s.cfg.SecretPath(Approle2SecretFile),
		NoHMACSecretFile:   s.cfg.SecretPath(NoHMACSecretFile),
		RotateSecretFile:   s.cfg.SecretPath(RotateSecretFile),
		K8sRole:            RoleMinkms,
		K8sJWTFile:         s.cfg.SecretPath(K8sJWTFile),
		RootTokenFile:      s.cfg.SecretPath(RootTokenFile),
	}
	targets := []struct {
		mount, role, file string
		id                *string
	}{
		{ApproleMount, RoleMinkms, cr.ApproleSecretFile, &cr.ApproleID},
		{Approle2Mount, RoleMinkms2, cr.Approle2SecretFile, &cr.Approle2ID},
		{ApproleMount, RoleNoHMAC, cr.NoHMACSecretFile, &cr.NoHMACRoleID},
		{ApproleMount, RoleRotate, cr.RotateSecretFile, &cr.RotateRoleID},
	}
	for _, t := range targets {
		id, err := issueSecretID(ctx, c, t.mount, t.role, t.file)
		if err != nil {
			return nil, err
		}
		*t.id = id
	}
	return cr, nil
}

// issueSecretID returns the role id of mount/role and writes a new
// secret id for it into file.
func issueSecretID(ctx context.Context, c *api.Client, mount, role, file string) (string, error) {
	base := "auth/" + mount + "/role/" + role
	sec, err := c.Logical().ReadWithContext(ctx, base+"/role-id")
	if err != nil || sec == nil {
		return "", fmt.Errorf("vaultlab: read %s/role-id: %v", base, err)
	}
	roleID, _ := sec.Data["role_id"].(string)
	sec, err = c.Logical().WriteWithContext(ctx, base+"/secret-id", nil)
	if err != nil || sec == nil {
		return "", fmt.Errorf("vaultlab: issue %s/secret-id: %v", base, err)
	}
	secretID, _ := sec.Data["secret_id"].(string)
	if strings.TrimSpace(roleID) == "" || secretID == "" {
		return "", fmt.Errorf("vaultlab: %s: empty role or secret id", base)
	}
	return roleID, writeSecret(file, secretID)
}
