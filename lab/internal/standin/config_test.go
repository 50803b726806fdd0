package standin

import (
	"strings"
	"testing"
)

const cfgHead = `version: v1
admin:
  identity: h1:VowRn1vOh0G4n5ApLmW02nUGsSTzpExk56PaDakIyEA
tls:
  certs:
    - key: /etc/minkms/tls/private.key
      cert: /etc/minkms/tls/public.crt
  ca: /etc/minkms/tls/ca.crt
`

const approleBlock = `hsm:
  hashicorp:
    vault:
      server: https://10.213.0.1:8200
      approle:
        id: role-id
        secret: secret-id
        namespace: ns-1
      transit:
        key: minkms-sealing-key
`

func TestParseConfigValid(t *testing.T) {
	tests := []struct {
		name, block, vaultBlock string
		check                   func(t *testing.T, c *Config)
	}{
		{"no hsm", "", VaultBlockHashicorp, func(t *testing.T, c *Config) {
			if c.Vault != nil || len(c.Certs) != 1 || c.CA != "/etc/minkms/tls/ca.crt" || !strings.HasPrefix(c.AdminIdentity, "h1:") {
				t.Errorf("got %+v", c)
			}
		}},
		{"empty hsm", "hsm:\n", VaultBlockHashicorp, func(t *testing.T, c *Config) {
			if c.Vault != nil {
				t.Errorf("vault = %+v", c.Vault)
			}
		}},
		{"approle with defaults", approleBlock, VaultBlockHashicorp, func(t *testing.T, c *Config) {
			v := c.Vault
			if v.AppRole == nil || *v.AppRole != (AppRoleAuth{ID: "role-id", Secret: "secret-id", Namespace: "ns-1", Path: "approle"}) {
				t.Errorf("approle = %+v", v.AppRole)
			}
			if v.Transit != (TransitConfig{Key: "minkms-sealing-key", Path: "transit"}) || v.HSMName() != "vault:transit/minkms-sealing-key" {
				t.Errorf("transit = %+v, name %s", v.Transit, v.HSMName())
			}
		}},
		{"short spelling with kubernetes and paths", `hsm:
  vault:
    server: https://10.213.0.1:8200
    kubernetes:
      role: minkms
      jwt: /etc/minkms/k8s-token
      path: k8s/
    transit:
      key: k
      path: kms-transit
      namespace: ns-2
    tls:
      ca: /etc/ca.pem
`, VaultBlockShort, func(t *testing.T, c *Config) {
			v := c.Vault
			if v.Kubernetes == nil || *v.Kubernetes != (KubernetesAuth{Role: "minkms", JWT: "/etc/minkms/k8s-token", Path: "k8s"}) {
				t.Errorf("kubernetes = %+v", v.Kubernetes)
			}
			if v.HSMName() != "vault:kms-transit/k" || v.Transit.Namespace != "ns-2" || v.TLS.CA != "/etc/ca.pem" {
				t.Errorf("vault = %+v", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(cfgHead+tt.block), tt.vaultBlock)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// siblingsBlock has a Vault block and the OpenBao and MinKMS siblings, as
// the chart's template writes them (hsm.<vendor>.<product>).
const siblingsBlock = `hsm:
  hashicorp:
    vault:
      server: https://10.213.0.1:8200
      approle: {id: r, secret: s}
      transit: {key: minkms-sealing-key}
  openssf:
    openbao:
      server: https://10.213.0.1:8200
      approle: {id: r2, secret: s2, path: kms-approle}
      transit: {key: minkms-sealing-key, path: kms-transit}
  minio:
    minkms:
      server: https://10.213.0.1:8200
      approle: {id: r3, secret: s3}
      transit: {key: other}
`

// TestParseConfigProductShapes: the shapes the product documents beyond the
// lab's first model: heartbeat, the flat older tls block with a CA
// directory, no TLS settings at all, and the OpenBao and MinKMS siblings.
func TestParseConfigProductShapes(t *testing.T) {
	c, err := ParseConfig([]byte("version: v1\nheartbeat: 500ms\ntls:\n  key: /k.pem\n  cert: /c.pem\n  ca: /etc/minkms/ca.d\n"), VaultBlockHashicorp)
	if err != nil {
		t.Fatal(err)
	}
	if c.Heartbeat.String() != "500ms" || len(c.Certs) != 1 || c.Certs[0] != (CertFiles{Key: "/k.pem", Cert: "/c.pem"}) || c.CA != "/etc/minkms/ca.d" || c.SelfSigned() {
		t.Errorf("flat tls: %+v", c)
	}
	c, err = ParseConfig([]byte("version: v1\n"), VaultBlockHashicorp)
	if err != nil || !c.SelfSigned() || c.AdminIdentity != "" {
		t.Errorf("no tls: %+v, %v", c, err)
	}
	c, err = ParseConfig([]byte(cfgHead+siblingsBlock), VaultBlockHashicorp)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range c.VaultHSMs() {
		ids = append(ids, v.HSMName())
	}
	if strings.Join(ids, ",") != "vault:transit/minkms-sealing-key,openbao:kms-transit/minkms-sealing-key,minkms:transit/other" {
		t.Errorf("HSM ids = %v", ids)
	}
	if c.OpenBao.AppRole.Path != "kms-approle" || c.OpenBao.Kind != KindOpenBao || c.MinKMS.Kind != KindMinKMS {
		t.Errorf("siblings: %+v %+v", c.OpenBao, c.MinKMS)
	}
	short := strings.Replace(siblingsBlock, "  hashicorp:\n    vault:\n      server: https://10.213.0.1:8200\n      approle: {id: r, secret: s}\n      transit: {key: minkms-sealing-key}\n",
		"  vault:\n    server: https://10.213.0.1:8200\n    approle: {id: r, secret: s}\n    transit: {key: minkms-sealing-key}\n", 1)
	if c, err = ParseConfig([]byte(cfgHead+short), VaultBlockShort); err != nil || len(c.VaultHSMs()) != 3 {
		t.Errorf("short spelling with siblings: %v", err)
	}
}

func TestParseConfigStrict(t *testing.T) {
	tests := []struct {
		name, doc, vaultBlock, want string
	}{
		{"version v2", strings.Replace(cfgHead, "v1", "v2", 1), VaultBlockHashicorp, "line 1: unsupported version"},
		{"no version", strings.Replace(cfgHead, "version: v1\n", "", 1), VaultBlockHashicorp, `missing required key "version"`},
		{"unknown top key", cfgHead + "log: debug\n", VaultBlockHashicorp, `line 9: unknown key "log"`},
		{"misplaced identity", cfgHead + "identity: x\n", VaultBlockHashicorp, `line 9: unknown key "identity"`},
		{"unknown tls key", strings.Replace(cfgHead, "  ca:", "  cas:", 1), VaultBlockHashicorp, `line 8: unknown key "tls.cas"`},
		{"tls without certificate", "version: v1\ntls:\n  ca: /etc/ca\n", VaultBlockHashicorp, `line 2: tls needs certs (or the flat key and cert)`},
		{"flat key without cert", "version: v1\ntls:\n  key: /k\n", VaultBlockHashicorp, `line 2: missing required key "tls.cert"`},
		{"flat and list mixed", cfgHead[:len(cfgHead)-len("  ca: /etc/minkms/tls/ca.crt\n")] + "  key: /k\n  cert: /c\n", VaultBlockHashicorp,
			"line 5: tls.certs and the flat tls.key/tls.cert cannot both be set"},
		{"empty certs", "version: v1\ntls:\n  certs: []\n", VaultBlockHashicorp, "line 3: tls.certs must be a non-empty list"},
		{"bad heartbeat", cfgHead + "heartbeat: often\n", VaultBlockHashicorp, `line 9: heartbeat must be a positive duration such as 500ms, not "often"`},
		{"negative heartbeat", cfgHead + "heartbeat: -1s\n", VaultBlockHashicorp, `line 9: heartbeat must be a positive duration`},
		{"openbao in the wrong place", cfgHead + "hsm:\n  openbao:\n    server: https://v\n", VaultBlockHashicorp, `line 10: unknown key "hsm.openbao"`},
		{"unknown openssf product", cfgHead + "hsm:\n  openssf:\n    vault: {}\n", VaultBlockHashicorp, `line 11: unknown key "hsm.openssf.vault"`},
		{"openbao without transit", cfgHead + "hsm:\n  openssf:\n    openbao:\n      server: https://v\n      approle: {id: a, secret: b}\n", VaultBlockHashicorp,
			`line 11: missing required key "hsm.openssf.openbao.transit"`},
		{"unknown minkms field", cfgHead + "hsm:\n  minio:\n    minkms:\n      endpoint: https://k\n", VaultBlockHashicorp, `line 12: unknown key "hsm.minio.minkms.endpoint"`},
		{"bad identity", strings.Replace(cfgHead, "h1:Vow", "h2:Vow", 1), VaultBlockHashicorp, "line 3: admin.identity"},
		{"duplicate key", cfgHead + "version: v1\n", VaultBlockHashicorp, `line 9: duplicate key "version"`},
		{"other spelling (short on hashicorp node)", cfgHead + "hsm:\n  vault:\n    server: https://v\n", VaultBlockHashicorp,
			`line 10: unknown key "hsm.vault" (this node reads its Vault block at hsm.hashicorp.vault)`},
		{"other spelling (hashicorp on short node)", cfgHead + approleBlock, VaultBlockShort,
			`line 10: unknown key "hsm.hashicorp" (this node reads its Vault block at hsm.vault)`},
		{"unknown hsm kind", cfgHead + "hsm:\n  thales:\n    luna: {}\n", VaultBlockHashicorp, `line 10: unknown key "hsm.thales"`},
		{"pkcs11 (not in the lab)", cfgHead + "hsm:\n  pkcs11: {}\n", VaultBlockHashicorp, `line 10: unknown key "hsm.pkcs11"`},
		{"key misplaced into approle", strings.Replace(cfgHead+approleBlock, "        namespace: ns-1", "        key: k", 1), VaultBlockHashicorp,
			`line 16: unknown key "hsm.hashicorp.vault.approle.key"`},
		{"secret accessor instead of secret", strings.Replace(cfgHead+approleBlock, "secret:", "secret_accessor:", 1), VaultBlockHashicorp,
			`line 15: unknown key "hsm.hashicorp.vault.approle.secret_accessor"`},
		{"no transit key", strings.Replace(cfgHead+approleBlock, "        key: minkms-sealing-key\n", "        path: transit\n", 1), VaultBlockHashicorp,
			`line 17: missing required key "hsm.hashicorp.vault.transit.key"`},
		{"no auth", strings.Replace(cfgHead+approleBlock, "      approle:\n        id: role-id\n        secret: secret-id\n        namespace: ns-1\n", "", 1), VaultBlockHashicorp,
			"line 11: hsm.hashicorp.vault needs exactly one of approle or kubernetes"},
		{"both auths", cfgHead + approleBlock + "      kubernetes:\n        role: r\n        jwt: j\n", VaultBlockHashicorp,
			"needs exactly one of approle or kubernetes"},
		{"empty server", strings.Replace(cfgHead+approleBlock, "https://10.213.0.1:8200", `""`, 1), VaultBlockHashicorp,
			"line 12: hsm.hashicorp.vault.server must be a non-empty string"},
		{"list instead of string", strings.Replace(cfgHead+approleBlock, "key: minkms-sealing-key", "key: [a]", 1), VaultBlockHashicorp,
			"line 18: hsm.hashicorp.vault.transit.key must be a non-empty string"},
		{"vault tls cert without key", cfgHead + approleBlock + "      tls:\n        cert: /c.pem\n", VaultBlockHashicorp, "needs both cert and key"},
		{"not yaml", "version: [v1\n", VaultBlockHashicorp, "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.doc), tt.vaultBlock)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
