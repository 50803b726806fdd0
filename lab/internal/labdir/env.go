package labdir

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// VaultInfo is what the Vault set-up hands to the lab files: the non-secret ids.
// Secrets stay in DIR/secrets; env.sh and the inventories only name those files.
type VaultInfo struct {
	Addr         string
	ApproleID    string
	Approle2ID   string
	NoHMACRoleID string
}

// EnvVars returns env.sh's variables in a fixed order (docs/design.md lists them).
func (l Layout) EnvVars(v VaultInfo, apiKey string, nodes int, firstNode string, variant standin.Variant) [][2]string {
	return [][2]string{
		{"KMSCTL_LAB_DIR", l.Root},
		{"VAULT_ADDR", v.Addr},
		{"VAULT_CACERT", l.CACert()},
		{"VAULT_TOKEN_FILE", l.Secret("vault-root-token")},
		{"MINIO_KMS_API_KEY", apiKey},
		{"MINIO_KMS_SERVER", firstNode},
		{"LAB_CA", l.CACert()},
		{"LAB_APPROLE_ID", v.ApproleID},
		{"LAB_APPROLE_SECRET_FILE", l.Secret(SecretApprole)},
		{"LAB_APPROLE2_ID", v.Approle2ID},
		{"LAB_APPROLE2_SECRET_FILE", l.Secret(SecretApprole2)},
		{"LAB_NOHMAC_ROLE_ID", v.NoHMACRoleID},
		{"LAB_NOHMAC_SECRET_FILE", l.Secret(SecretNoHMAC)},
		{"LAB_K8S_JWT_FILE", l.Secret(SecretK8sJWT)},
		{"LAB_KMSPW_PASSWORD_FILE", l.Secret(SecretKmspwPassword)},
		{"LAB_SSH_CONFIG", l.SSHConfig()},
		{"LAB_NODES", strconv.Itoa(nodes)},
		{"LAB_HSM_NAMES", variant.HSMNames},
		{"LAB_UNSEAL", variant.Unseal},
		{"LAB_ADMIN_IDENTITY", variant.AdminIdentity},
		{"LAB_RESTART_RECREATES_REMOVED", strconv.FormatBool(variant.RestartRecreatesRemoved)},
	}
}

// WriteEnv writes DIR/env.sh (0600: it holds the API key) with shell-quoted values.
func (l Layout) WriteEnv(vars [][2]string) error {
	var b strings.Builder
	b.WriteString("# Written by `lab up`; source it: . " + shellQuote(l.EnvFile()) + "\n")
	for _, kv := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return WriteFileAtomic(l.EnvFile(), []byte(b.String()), 0o600)
}

// shellQuote single-quotes a value for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ReadEnv reads back the `export K='V'` lines WriteEnv wrote, as K=V
// strings ready for exec.Cmd.Env. Tests and the benchmark use it, so the
// format has one reader next to its one writer.
func ReadEnv(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab env: %w", err)
	}
	var env []string
	for _, line := range strings.Split(string(b), "\n") {
		line, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env = append(env, k+"="+shellUnquote(v))
	}
	return env, nil
}

// shellUnquote undoes shellQuote ('it'\”s' -> it's).
func shellUnquote(v string) string {
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return v
	}
	return strings.ReplaceAll(v[1:len(v)-1], `'\''`, `'`)
}
