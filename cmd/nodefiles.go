package cmd

import (
	"fmt"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/envfile"
)

// envHasKey reports whether systemd would pass MINIO_KMS_HSM_KEY from this
// EnvironmentFile, read with systemd's own rules (see envfile.HasKey).
func envHasKey(data []byte) (bool, error) {
	return envfile.HasKey(data, migrate.EnvKey)
}

// vaultBlocks returns the external HSM blocks present in a key manager
// config (hsm.hashicorp.vault and/or hsm.vault, hsm.openssf.openbao).
func vaultBlocks(data []byte) ([]string, error) {
	ins, err := configedit.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	var out []string
	if ins.AtHashicorpVault {
		out = append(out, inventory.VaultBlockHashiCorp)
	}
	if ins.AtVault {
		out = append(out, inventory.VaultBlockShort)
	}
	if ins.AtOpenBao {
		out = append(out, inventory.VaultBlockOpenBao)
	}
	return out, nil
}
