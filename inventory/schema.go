package inventory

import (
	"encoding/json"
	"maps"
)

// SchemaID is the $id of the inventory's JSON Schema.
const SchemaID = "https://github.com/kmsctl/kmsctl/inventory/v1.schema.json"

// obj is one JSON Schema object.
type obj = map[string]any

func strProp(desc string) obj  { return obj{"type": "string", "description": desc} }
func pathProp(desc string) obj { return obj{"type": "string", "minLength": 1, "description": desc} }

// mappingOf is a closed object: only the listed properties, as the decoder
// accepts only known keys.
func mappingOf(desc string, props obj, required ...string) obj {
	o := obj{"type": "object", "description": desc, "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	sshProps = obj{
		"user":               obj{"type": "string", "pattern": `^[A-Za-z0-9_][A-Za-z0-9_.-]*$`, "description": "SSH login user (default: ssh_config User, else your login name)"},
		"port":               obj{"type": "integer", "minimum": 1, "maximum": 65535, "description": "SSH port (default: ssh_config Port, else 22)"},
		"identity_file":      pathProp("private key file on the operator's machine (default: ssh_config IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa, plus ssh-agent)"),
		"known_hosts":        pathProp("known_hosts file; host keys are always checked (default: ssh_config UserKnownHostsFile, else ~/.ssh/known_hosts)"),
		"sudo":               obj{"type": "boolean", "description": "run privileged steps through sudo when the user is not root (default true)"},
		"proxy_jump":         strProp("bastion [user@]host[:port], or a comma-separated chain, first dialled first"),
		"sudo_password_file": pathProp("file holding the sudo password (0600), when sudo asks for one"),
		"ssh_config":         pathProp("OpenSSH client config for these nodes (default: --ssh-config, else ~/.ssh/config)"),
	}
	settingsProps = obj{
		"config":          pathProp("the key manager's config file on the node (default /etc/minkms/config.yaml)"),
		"env_file":        pathProp("the systemd EnvironmentFile holding MINIO_KMS_HSM_KEY (default /etc/default/minkms)"),
		"unit":            strProp("systemd unit (default minkms)"),
		"api":             obj{"type": "string", "pattern": "^https://", "description": "key manager API as seen from the node (default https://127.0.0.1:7373)"},
		"api_ca_cert":     pathProp("operator-local CA file of the node API certificate"),
		"api_server_name": strProp("TLS server name to verify on the node API certificate"),
		"backup_dir":      pathProp("backup directory on the node (default /var/lib/kmsctl/backups)"),
		"vault_block":     obj{"type": "string", "enum": []string{VaultBlockHashiCorp, VaultBlockShort}, "description": "spelling of a new Vault HSM block"},
	}
	approleProps = obj{
		"id":          strProp("AppRole role id"),
		"secret_file": pathProp("file holding the secret id (0600); never the secret itself"),
		"secret_env":  obj{"type": "string", "pattern": `^[A-Za-z_][A-Za-z0-9_]*$`, "description": "environment variable holding the secret id"},
		"path":        strProp("auth mount (default approle)"),
		"namespace":   strProp("Vault namespace of the login"),
	}
	kubernetesProps = obj{
		"role":      strProp("Vault Kubernetes auth role"),
		"jwt":       pathProp("service account token path on the node"),
		"jwt_file":  pathProp("operator-local copy of a token, for the preflight login check"),
		"path":      strProp("auth mount (default kubernetes)"),
		"namespace": strProp("Vault namespace of the login"),
	}
	transitProps = obj{
		"key":       strProp("transit key name"),
		"path":      strProp("transit mount (default transit)"),
		"namespace": strProp("Vault namespace of the key"),
	}
)

// nodeProps are a node entry's keys: name, address, ssh and the settings.
func nodeProps() obj {
	p := obj{
		"name":    obj{"type": "string", "minLength": 1, "description": "node name used in every message"},
		"address": strProp("IP address, host name or ssh_config Host alias"),
		"ssh":     mappingOf("this node's SSH settings (override the top-level ssh section)", sshProps),
	}
	maps.Copy(p, settingsProps)
	return p
}

// vaultSchema is the vault section: exactly one login method.
func vaultSchema() obj {
	v := mappingOf("the Vault transit HSM to migrate to", obj{
		"server":          obj{"type": "string", "pattern": "^https://", "description": "Vault address as the nodes reach it"},
		"ca_cert":         pathProp("operator-local CA file of Vault's certificate"),
		"tls_server_name": strProp("TLS server name to verify on Vault's certificate"),
		"approle":         mappingOf("AppRole login of the nodes", approleProps, "id"),
		"kubernetes":      mappingOf("Kubernetes login of the nodes", kubernetesProps, "role", "jwt"),
		"transit":         mappingOf("the sealing key", transitProps, "key"),
	}, "server", "transit")
	v["oneOf"] = []obj{{"required": []string{"approle"}}, {"required": []string{"kubernetes"}}}
	return v
}

// Schema returns the JSON Schema (draft 2020-12) of inventory files, for
// editors' YAML language servers (# yaml-language-server: $schema=...).
// It is built from the same key lists as the decoder, so the two cannot
// disagree on which keys exist.
func Schema() ([]byte, error) {
	s := mappingOf("kmsctl inventory: the key manager nodes, how to reach them, and the Vault to seal with", obj{
		"version":       obj{"const": "v1", "description": "format version"},
		"ssh":           mappingOf("SSH settings of every node", sshProps),
		"node_defaults": mappingOf("settings of every node", settingsProps),
		"nodes":         obj{"type": "array", "minItems": 1, "items": mappingOf("one key manager node", nodeProps(), "name", "address")},
		"vault":         vaultSchema(),
	}, "version", "nodes")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = SchemaID
	s["title"] = "kmsctl inventory"
	return json.MarshalIndent(s, "", "  ")
}
