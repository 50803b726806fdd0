package node

import (
	"fmt"
	"strings"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// unit is the documented minkms unit (docs/design.md), unchanged but for the lab's
// description, so kmsctl meets the same systemd behaviour as on a real host.
const unit = `[Unit]
Description=AIStor Key Manager
Documentation=https://docs.min.io/enterprise/aistor-key-manager/
Wants=network-online.target
After=network-online.target
AssertFileIsExecutable=/usr/local/bin/minkms

[Service]
Type=simple
User=minkms-user
Group=minkms-user
EnvironmentFile=-/etc/default/minkms
ExecStart=/usr/local/bin/minkms server $MINIO_KMS_VOLUME $MINIO_KMS_OPTS
Restart=always
RestartSec=1
LimitNOFILE=65536
TimeoutStopSec=infinity
SendSIGKILL=no

[Install]
WantedBy=multi-user.target
`

// adminYAML pins the admin identity in config.yaml (the pinned variant).
const adminYAML = `# Identity allowed to run admin commands (derived from the lab API key)
admin:
  identity: %s
`

// tlsYAML is the rest of the initial /etc/minkms/config.yaml of docs/design.md.
const tlsYAML = `tls:
  certs:
    - key: /etc/minkms/tls/private.key
      cert: /etc/minkms/tls/public.crt
  ca: /etc/minkms/tls/ca.crt
`

// VaultBlockDefault is the Vault block spelling a node accepts unless the
// vault-block fault says otherwise.
const VaultBlockDefault = "hsm.hashicorp.vault"

// LabYAML renders /etc/minkms-lab/lab.yaml for a node; v is the lab's
// variant (every key written out, so that a fault can flip it in place).
func LabYAML(s Spec, nodes int, vaultBlock, rule string, v standin.Variant) []byte {
	peers := make([]string, 0, nodes)
	for _, p := range Specs(nodes) {
		peers = append(peers, fmt.Sprintf("%d: %q", p.Index, p.APIAddr()))
	}
	return fmt.Appendf(nil, "node_id: %d\npeers: {%s}\nvault_block: %s\ninternode_rule: %s\nversion: 2025-10-01T00-00-00Z\n"+
		"hsm_names: %s\nunseal: %s\nrestart_recreates_removed: %t\n",
		s.Index, strings.Join(peers, ", "), vaultBlock, rule, v.HSMNames, v.Unseal, v.RestartRecreatesRemoved)
}

// ConfigYAML renders the initial config.yaml; without an admin identity (the
// derived variant) it has no admin block, and the stand-in derives its root
// API key from its first HSM.
func ConfigYAML(adminIdentity string) []byte {
	b := []byte("version: v1\n")
	if adminIdentity != "" {
		b = fmt.Appendf(b, adminYAML, adminIdentity)
	}
	return append(b, tlsYAML...)
}

func envFile(f Files) []byte {
	return fmt.Appendf(nil, "MINIO_KMS_HSM_KEY=%s\nMINIO_KMS_VOLUME=/var/lib/minkms\nMINIO_KMS_OPTS=\"--host %s --config /etc/minkms/config.yaml\"\n",
		f.HSMKey, f.Spec.APIAddr())
}

func minkmsEntries(f Files) []entry {
	gid := userByName(f.Users, "minkms-user").UID
	admin := f.AdminIdentity
	if f.Variant.AdminIdentity == standin.AdminDerived {
		admin = ""
	}
	out := []entry{
		file("default/minkms", envFile(f), 0o600),
		owned(file("minkms/config.yaml", ConfigYAML(admin), 0o640), 0, gid),
		file("minkms/tls/public.crt", f.CertPEM, 0o644),
		owned(file("minkms/tls/private.key", f.KeyPEM, 0o640), 0, gid),
		file("minkms/tls/ca.crt", f.CAPEM, 0o644),
		file("minkms-lab/lab.yaml", LabYAML(f.Spec, f.Nodes, VaultBlockDefault, "shared", f.Variant), 0o644),
		dir("minkms-lab/faults", 0o755, 0, 0),
		file("systemd/system/minkms.service", []byte(unit), 0o644),
		symlink("systemd/system/multi-user.target.wants/minkms.service", "/etc/systemd/system/minkms.service"),
	}
	if f.K8sJWT != "" {
		out = append(out, owned(file("minkms/k8s-token", []byte(f.K8sJWT), 0o640), 0, gid))
	}
	return out
}
