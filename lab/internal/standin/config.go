package standin

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"aead.dev/mtls"
	"go.yaml.in/yaml/v3"
)

// Vault block spellings a node can be told to accept (lab.yaml vault_block).
const (
	VaultBlockHashicorp = "hsm.hashicorp.vault"
	VaultBlockShort     = "hsm.vault"
)

// Config is the parsed key-manager config file. It holds only what the
// documented format allows, so that a wrong edit by kmsctl cannot slip through.
type Config struct {
	AdminIdentity string        // h1:... or "" (the root API key derived from the first HSM is admin)
	Heartbeat     time.Duration // top-level heartbeat; 0: not set
	// Certs are the server's key pairs (tls.certs[] or the older flat
	// tls.key/tls.cert); none: no TLS settings, a self-signed certificate.
	Certs []CertFiles
	// CA is a PEM file or a directory of PEM files used to verify peers;
	// "" means system roots (or, with a self-signed certificate, no check).
	CA      string
	Vault   *VaultConfig // hsm.hashicorp.vault (or hsm.vault)
	OpenBao *VaultConfig // hsm.openssf.openbao: Vault's fields, Kind KindOpenBao
	MinKMS  *VaultConfig // hsm.minio.minkms: parsed with Vault's fields (UNCONFIRMED), Kind KindMinKMS
}

// VaultHSMs lists the config's Vault-like HSM blocks in HSM order.
func (c *Config) VaultHSMs() []*VaultConfig {
	var out []*VaultConfig
	for _, v := range []*VaultConfig{c.Vault, c.OpenBao, c.MinKMS} {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// SelfSigned reports whether the config has no TLS settings, so that the
// node serves a self-signed certificate (clients must skip verification).
func (c *Config) SelfSigned() bool { return len(c.Certs) == 0 }

// CertFiles names one TLS key pair of the node's HTTPS server.
type CertFiles struct {
	Key, Cert string
}

// VaultConfig is the Vault HSM block (hsm.hashicorp.vault or hsm.vault).
type VaultConfig struct {
	Kind       string // KindVault ("" too), KindOpenBao or KindMinKMS
	Server     string
	AppRole    *AppRoleAuth
	Kubernetes *KubernetesAuth
	Transit    TransitConfig
	TLS        VaultTLS
}

// AppRoleAuth logs in to Vault with an approle role id and secret id.
type AppRoleAuth struct {
	ID, Secret, Namespace, Path string
}

// KubernetesAuth logs in to Vault with a service-account JWT; JWT is either
// the token itself or a path to a file holding it.
type KubernetesAuth struct {
	Role, JWT, Namespace, Path string
}

// TransitConfig names the transit key that seals the root encryption key.
type TransitConfig struct {
	Key, Namespace, Path string
}

// VaultTLS holds the optional CA and client certificate for Vault.
type VaultTLS struct {
	CA, Cert, Key string
}

// Kinds of Vault-like HSM blocks; each is the first part of its HSMs' ids.
const (
	KindVault   = "vault"   // hsm.hashicorp.vault (or hsm.vault)
	KindOpenBao = "openbao" // hsm.openssf.openbao
	KindMinKMS  = "minkms"  // hsm.minio.minkms
)

// HSMName is the id of the HSM (its rek.json key and legacy name):
// <kind>:<transit path>/<key>, e.g. vault:transit/minkms-sealing-key.
func (v *VaultConfig) HSMName() string {
	kind := v.Kind
	if kind == "" {
		kind = KindVault
	}
	return kind + ":" + v.Transit.Path + "/" + v.Transit.Key
}

// LoadConfig reads and strictly parses the config file at path; vaultBlock is
// the only Vault block spelling this node accepts.
func LoadConfig(path, vaultBlock string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(data, vaultBlock)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig strictly parses a config file: any unknown or misplaced key is
// an error that names its line.
func ParseConfig(data []byte, vaultBlock string) (*Config, error) {
	root, err := documentRoot(data)
	if err != nil {
		return nil, err
	}
	top, err := mapping(root, "", []string{"version", "admin", "heartbeat", "tls", "hsm"}, nil)
	if err != nil {
		return nil, err
	}
	version, err := reqScalar(top, root, "", "version")
	if err != nil {
		return nil, err
	}
	if version != "v1" {
		return nil, lineErr(top["version"].key, "unsupported version %q (want v1)", version)
	}
	c := &Config{}
	if e, ok := top["admin"]; ok {
		if c.AdminIdentity, err = parseAdmin(e); err != nil {
			return nil, err
		}
	}
	if c.Heartbeat, err = parseHeartbeat(top); err != nil {
		return nil, err
	}
	if e, ok := top["tls"]; ok {
		if err := parseTLS(e, c); err != nil {
			return nil, err
		}
	}
	if e, ok := top["hsm"]; ok {
		if err := parseHSM(e, vaultBlock, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseHeartbeat reads the optional top-level heartbeat interval ("500ms").
func parseHeartbeat(top map[string]entry) (time.Duration, error) {
	v, err := optScalar(top, "", "heartbeat")
	if err != nil || v == "" {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, lineErr(top["heartbeat"].key, "heartbeat must be a positive duration such as 500ms, not %q", v)
	}
	return d, nil
}

func parseAdmin(e entry) (string, error) {
	m, err := mapping(e.val, "admin", []string{"identity"}, nil)
	if err != nil {
		return "", err
	}
	id, err := optScalar(m, "admin", "identity")
	if err != nil || id == "" {
		return id, err
	}
	if _, err := mtls.ParseIdentity(id); err != nil {
		return "", lineErr(m["identity"].key, "admin.identity: %v", err)
	}
	return id, nil
}

// parseTLS reads tls.certs[] with tls.ca, or the older flat tls.key,
// tls.cert and tls.ca; a tls block must name a certificate.
func parseTLS(e entry, c *Config) error {
	m, err := mapping(e.val, "tls", []string{"certs", "key", "cert", "ca"}, nil)
	if err != nil {
		return err
	}
	if c.CA, err = optScalar(m, "tls", "ca"); err != nil {
		return err
	}
	certs, hasList := m["certs"]
	_, hasKey := m["key"]
	_, hasCert := m["cert"]
	switch {
	case hasList && (hasKey || hasCert):
		return lineErr(certs.key, "tls.certs and the flat tls.key/tls.cert cannot both be set")
	case hasKey || hasCert:
		var cf CertFiles
		if cf.Key, err = reqScalar(m, e.key, "tls", "key"); err != nil {
			return err
		}
		if cf.Cert, err = reqScalar(m, e.key, "tls", "cert"); err != nil {
			return err
		}
		c.Certs = []CertFiles{cf}
		return nil
	case !hasList:
		return lineErr(e.key, "tls needs certs (or the flat key and cert)")
	}
	if certs.val.Kind != yaml.SequenceNode || len(certs.val.Content) == 0 {
		return lineErr(certs.key, "tls.certs must be a non-empty list")
	}
	for _, item := range certs.val.Content {
		pair, err := mapping(item, "tls.certs[]", []string{"key", "cert"}, nil)
		if err != nil {
			return err
		}
		var cf CertFiles
		if cf.Key, err = reqScalar(pair, item, "tls.certs[]", "key"); err != nil {
			return err
		}
		if cf.Cert, err = reqScalar(pair, item, "tls.certs[]", "cert"); err != nil {
			return err
		}
		c.Certs = append(c.Certs, cf)
	}
	return nil
}

// parseHSM reads the hsm block: the Vault block at the node's spelling (the
// other spelling is an unknown key) and its siblings hsm.openssf.openbao and
// hsm.minio.minkms.
func parseHSM(e entry, vaultBlock string, c *Config) error {
	if vaultBlock != VaultBlockHashicorp && vaultBlock != VaultBlockShort {
		return fmt.Errorf("lab setting vault_block %q is not %s or %s", vaultBlock, VaultBlockHashicorp, VaultBlockShort)
	}
	vaultKey := strings.Split(vaultBlock, ".")[1] // hashicorp or vault
	hint := func(key string) string {
		if key == "vault" || key == "hashicorp" {
			return "this node reads its Vault block at " + vaultBlock
		}
		return ""
	}
	m, err := mapping(e.val, "hsm", []string{vaultKey, "openssf", "minio"}, hint)
	if err != nil {
		return err
	}
	blocks := []struct {
		path, kind string
		dst        **VaultConfig
	}{
		{vaultBlock, KindVault, &c.Vault},
		{"hsm.openssf.openbao", KindOpenBao, &c.OpenBao},
		{"hsm.minio.minkms", KindMinKMS, &c.MinKMS},
	}
	for _, b := range blocks {
		if *b.dst, err = nestedVault(m, b.path, b.kind, hint); err != nil {
			return err
		}
	}
	return nil
}

// nestedVault parses the Vault-shaped block at path (hsm.<a>[.<b>]) if present.
func nestedVault(m map[string]entry, path, kind string, hint func(string) string) (*VaultConfig, error) {
	segs := strings.Split(path, ".")[1:]
	cur, ok := m[segs[0]]
	if !ok {
		return nil, nil
	}
	at := "hsm." + segs[0]
	for _, seg := range segs[1:] {
		sub, err := mapping(cur.val, at, []string{seg}, hint)
		if err != nil {
			return nil, err
		}
		if cur, ok = sub[seg]; !ok {
			return nil, nil
		}
		at += "." + seg
	}
	v, err := parseVault(cur, at)
	if v != nil {
		v.Kind = kind
	}
	return v, err
}

func parseVault(e entry, path string) (*VaultConfig, error) {
	m, err := mapping(e.val, path, []string{"server", "approle", "kubernetes", "transit", "tls"}, nil)
	if err != nil {
		return nil, err
	}
	v := &VaultConfig{}
	if v.Server, err = reqScalar(m, e.key, path, "server"); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(v.Server, "https://") && !strings.HasPrefix(v.Server, "http://") {
		return nil, lineErr(m["server"].key, "%s.server must be an http(s) URL", path)
	}
	if err := parseVaultAuth(m, e.key, path, v); err != nil {
		return nil, err
	}
	if err := parseTransit(m, e.key, path, v); err != nil {
		return nil, err
	}
	if t, ok := m["tls"]; ok {
		tm, err := mapping(t.val, path+".tls", []string{"ca", "cert", "key"}, nil)
		if err != nil {
			return nil, err
		}
		for key, dst := range map[string]*string{"ca": &v.TLS.CA, "cert": &v.TLS.Cert, "key": &v.TLS.Key} {
			if *dst, err = optScalar(tm, path+".tls", key); err != nil {
				return nil, err
			}
		}
		if (v.TLS.Cert == "") != (v.TLS.Key == "") {
			return nil, lineErr(t.key, "%s.tls needs both cert and key, or neither", path)
		}
	}
	return v, nil
}

func parseVaultAuth(m map[string]entry, parent *yaml.Node, path string, v *VaultConfig) error {
	a, hasApprole := m["approle"]
	k, hasK8s := m["kubernetes"]
	if hasApprole == hasK8s {
		return lineErr(parent, "%s needs exactly one of approle or kubernetes", path)
	}
	if hasApprole {
		p := path + ".approle"
		am, err := mapping(a.val, p, []string{"id", "secret", "namespace", "path"}, nil)
		if err != nil {
			return err
		}
		auth := &AppRoleAuth{Path: "approle"}
		if err := fill(am, a.key, p, map[string]*string{"id": &auth.ID, "secret": &auth.Secret},
			map[string]*string{"namespace": &auth.Namespace, "path": &auth.Path}); err != nil {
			return err
		}
		v.AppRole = auth
		return nil
	}
	p := path + ".kubernetes"
	km, err := mapping(k.val, p, []string{"role", "jwt", "namespace", "path"}, nil)
	if err != nil {
		return err
	}
	auth := &KubernetesAuth{Path: "kubernetes"}
	if err := fill(km, k.key, p, map[string]*string{"role": &auth.Role, "jwt": &auth.JWT},
		map[string]*string{"namespace": &auth.Namespace, "path": &auth.Path}); err != nil {
		return err
	}
	v.Kubernetes = auth
	return nil
}

func parseTransit(m map[string]entry, parent *yaml.Node, path string, v *VaultConfig) error {
	t, ok := m["transit"]
	if !ok {
		return lineErr(parent, "missing required key %q", path+".transit")
	}
	p := path + ".transit"
	tm, err := mapping(t.val, p, []string{"key", "namespace", "path"}, nil)
	if err != nil {
		return err
	}
	v.Transit = TransitConfig{Path: "transit"}
	return fill(tm, t.key, p, map[string]*string{"key": &v.Transit.Key},
		map[string]*string{"namespace": &v.Transit.Namespace, "path": &v.Transit.Path})
}

// fill copies required and optional scalars of m into their destinations;
// optional keys that are absent keep their default.
func fill(m map[string]entry, parent *yaml.Node, path string, required, optional map[string]*string) error {
	for _, key := range slices.Sorted(maps.Keys(required)) {
		v, err := reqScalar(m, parent, path, key)
		if err != nil {
			return err
		}
		*required[key] = v
	}
	for key, dst := range optional {
		v, err := optScalar(m, path, key)
		if err != nil {
			return err
		}
		if v != "" {
			*dst = strings.Trim(v, "/")
		}
	}
	return nil
}
