package inventory

import (
	"errors"
	"strings"
	"testing"
)

// node wraps one node entry's extra lines into a minimal inventory.
func withNode(extra string) string {
	return "version: v1\nnodes:\n  - name: kms-1\n    address: 10.0.0.11\n" + extra
}

// withVault appends a vault section to a minimal inventory.
func withVault(v string) string { return minimal + "vault:\n" + v }

const goodVault = "  server: https://v.example:8200\n  approle: {id: role-1, secret_env: SECRET_ID}\n  transit: {key: k}\n"

func TestValidationRules(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error text
	}{
		{"empty", "", []string{"inventory.yaml:1:1: the inventory is empty"}},
		{"syntax", "version: v1\nnodes: [\n", []string{"inventory.yaml:2:1: invalid YAML"}},
		{"two documents", minimal + "---\nversion: v1\n", []string{"only one YAML document"}},
		{"not a mapping", "- a\n", []string{"1:1: must be a mapping"}},
		{"version missing", "nodes:\n  - {name: a, address: b}\n", []string{"1:1: version: is required"}},
		{"version wrong", "version: v2\nnodes:\n  - {name: a, address: b}\n", []string{"1:10: version: must be one of v1"}},
		{"nodes missing", "version: v1\n", []string{"nodes: is required"}},
		{"nodes empty", "version: v1\nnodes: []\n", []string{"2:8: nodes: must be a list of at least one node"}},
		{"unknown top key", minimal + "extra: 1\n", []string{"5:1: extra: unknown field"}},
		{"duplicate key", minimal + "version: v1\n", []string{"5:1: version: duplicate key (first at line 1)"}},
		{"unknown node key", withNode("    hostname: x\n"), []string{"5:5: nodes[0].hostname: unknown field"}},
		{"name missing", "version: v1\nnodes:\n  - address: a\n", []string{"3:5: nodes[0].name: is required"}},
		{"address missing", "version: v1\nnodes:\n  - name: a\n", []string{"nodes[0].address: is required"}},
		{"bad name", "version: v1\nnodes:\n  - {name: -a, address: a}\n", []string{"nodes[0].name: must be 1..63"}},
		{"bad address", "version: v1\nnodes:\n  - {name: a, address: 'a;rm -rf /'}\n", []string{"nodes[0].address: must be an IP address or a host name"}},
		{"duplicate name", withNode("  - {name: kms-1, address: 10.0.0.12}\n"), []string{"5:5: nodes[1].name: duplicate node name \"kms-1\" (first at line 3)"}},
		{"duplicate address", withNode("  - {name: kms-2, address: 10.0.0.11}\n"), []string{"nodes[1].address: duplicate address and port 10.0.0.11:22"}},
		{"same address other port ok", withNode("  - {name: kms-2, address: 10.0.0.11, ssh: {port: 2222}}\n"), nil},
		{"port range", withNode("    ssh: {port: 70000}\n"), []string{"5:17: nodes[0].ssh.port: must be 1..65535"}},
		{"port string", "version: v1\nssh:\n  port: \"22\"\nnodes:\n  - {name: a, address: b}\n", []string{"3:9: ssh.port: must be 1..65535"}},
		{"sudo not bool", withNode("    ssh: {sudo: yes}\n"), []string{"nodes[0].ssh.sudo: must be true or false"}},
		{"user shell", withNode("    ssh: {user: 'a b'}\n"), []string{"nodes[0].ssh.user: must be a login name"}},
		{"proxy jump ok", withNode("    ssh: {proxy_jump: 'ops@bastion.example:2222'}\n"), nil},
		{"proxy jump bad", withNode("    ssh: {proxy_jump: 'b;x'}\n"), []string{"nodes[0].ssh.proxy_jump: must be [user@]host[:port]"}},
		{"sudo password inline", withNode("    ssh: {sudo_password: hunter2}\n"), []string{"nodes[0].ssh.sudo_password: passwords never go in the inventory"}},
		{"relative node path", withNode("    config: etc/minkms.yaml\n"), []string{"nodes[0].config: must be an absolute path"}},
		{"dotdot node path", withNode("    env_file: /etc/../root/x\n"), []string{"nodes[0].env_file: must not contain '..'"}},
		{"unclean node path", withNode("    backup_dir: /var/lib//kmsctl/\n"), []string{"nodes[0].backup_dir: must be a clean path"}},
		{"shell in node path", withNode("    config: /etc/$(reboot)\n"), []string{"nodes[0].config: must contain only"}},
		{"space in node path", withNode("    config: /etc/my config.yaml\n"), []string{"nodes[0].config: must contain only"}},
		{"unit ok", withNode("    unit: minkms@1.service\n"), nil},
		{"unit shell", withNode("    unit: 'minkms;reboot'\n"), []string{"nodes[0].unit: must match"}},
		{"unit dash", withNode("    unit: --now\n"), []string{"nodes[0].unit: must match"}},
		{"api http", withNode("    api: http://127.0.0.1:7373\n"), []string{"nodes[0].api: must be an https:// URL"}},
		{"api creds", withNode("    api: https://u:p@127.0.0.1:7373\n"), []string{"nodes[0].api: must not carry credentials"}},
		{"api port", withNode("    api: https://127.0.0.1:99999\n"), []string{"nodes[0].api: port must be 1..65535"}},
		{"vault block", "version: v1\nnode_defaults: {vault_block: hsm.kms}\nnodes:\n  - {name: a, address: b}\n", []string{"2:30: node_defaults.vault_block: must be one of hsm.hashicorp.vault, hsm.vault"}},
		{"api server name", withNode("    api_server_name: 'a b'\n"), []string{"nodes[0].api_server_name: must be an IP address or a host name"}},
		{"null string", withNode("    unit:\n"), []string{"nodes[0].unit: must be a string"}},
		{"alias", "version: v1\nssh: &s {user: a}\nnodes:\n  - {name: a, address: b, ssh: *s}\n", []string{"nodes[0].ssh: YAML aliases are not supported"}},
		{"vault ok", withVault(goodVault), nil},
		{"vault server missing", withVault("  approle: {id: r}\n  transit: {key: k}\n"), []string{"vault.server: is required"}},
		{"vault server http", withVault("  server: http://v:8200\n  approle: {id: r}\n  transit: {key: k}\n"), []string{"vault.server: must be an https:// URL"}},
		{"vault no login", withVault("  server: https://v\n  transit: {key: k}\n"), []string{"vault: set exactly one of approle and kubernetes"}},
		{"vault both logins", withVault("  server: https://v\n  approle: {id: r}\n  kubernetes: {role: r, jwt: /t}\n  transit: {key: k}\n"), []string{"vault.kubernetes: set exactly one of approle and kubernetes, not both"}},
		{"vault transit missing", withVault("  server: https://v\n  approle: {id: r}\n"), []string{"vault.transit: is required"}},
		{"transit key missing", withVault("  server: https://v\n  approle: {id: r}\n  transit: {path: t}\n"), []string{"vault.transit.key: is required"}},
		{"transit key bad", withVault("  server: https://v\n  approle: {id: r}\n  transit: {key: 'a/b'}\n"), []string{"vault.transit.key: must be a Vault key name"}},
		{"transit mount bad", withVault("  server: https://v\n  approle: {id: r}\n  transit: {key: k, path: /transit/}\n"), []string{"vault.transit.path: must be a Vault mount path"}},
		{"namespace bad", withVault("  server: https://v\n  approle: {id: r, namespace: 'a b'}\n  transit: {key: k}\n"), []string{"vault.approle.namespace: must be a Vault namespace"}},
		{"approle secret inline", withVault("  server: https://v\n  approle: {id: r, secret: s3cr3t}\n  transit: {key: k}\n"), []string{"vault.approle.secret: secrets never go in the inventory: use secret_file"}},
		{"approle both sources", withVault("  server: https://v\n  approle: {id: r, secret_file: /s, secret_env: S}\n  transit: {key: k}\n"), []string{"vault.approle.secret_env: set at most one of secret_file and secret_env"}},
		{"approle env name", withVault("  server: https://v\n  approle: {id: r, secret_env: 'A-B'}\n  transit: {key: k}\n"), []string{"vault.approle.secret_env: must be an environment variable name"}},
		{"approle id missing", withVault("  server: https://v\n  approle: {path: a}\n  transit: {key: k}\n"), []string{"vault.approle.id: is required"}},
		{"kubernetes ok", withVault("  server: https://v\n  kubernetes: {role: r, jwt: /etc/minkms/k8s-token, jwt_file: ./jwt}\n  transit: {key: k}\n"), nil},
		{"kubernetes jwt relative", withVault("  server: https://v\n  kubernetes: {role: r, jwt: token}\n  transit: {key: k}\n"), []string{"vault.kubernetes.jwt: must be an absolute path"}},
		{"kubernetes role missing", withVault("  server: https://v\n  kubernetes: {jwt: /t}\n  transit: {key: k}\n"), []string{"vault.kubernetes.role: is required"}},
		{"kubernetes token inline", withVault("  server: https://v\n  kubernetes: {role: r, jwt: /t, token: abc}\n  transit: {key: k}\n"), []string{"vault.kubernetes.token: tokens never go in the inventory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse("inventory.yaml", []byte(tt.src))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if inv == nil {
					t.Fatal("nil inventory without error")
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Line < 1 || fe.Column < 1 {
				t.Errorf("error is not a positioned *FieldError: %#v", err)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	src := "version: v1\nnodes:\n  - {name: a, address: 'x y', unit: 'a;b'}\n  - {name: a, address: c, ssh: {port: 0}}\n"
	_, err := Parse("inv.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error is not joined: %T", err)
	}
	if n := len(joined.Unwrap()); n != 4 {
		t.Errorf("got %d problems, want 4:\n%v", n, err)
	}
}
