package inventory

import "go.yaml.in/yaml/v3"

// The keys of the vault sections (also the properties of the JSON Schema).
var (
	vaultKeys      = []string{"server", "ca_cert", "tls_server_name", "approle", "kubernetes", "transit"}
	approleKeys    = []string{"id", "secret_file", "secret_env", "path", "namespace"}
	kubernetesKeys = []string{"role", "jwt", "jwt_file", "path", "namespace"}
	transitKeys    = []string{"key", "path", "namespace"}
	topKeys        = []string{"version", "ssh", "node_defaults", "nodes", "vault"}
)

// vault reads the vault section: exactly one login method and a transit key.
func (d *decoder) vault(n *yaml.Node, path string) *Vault {
	f := d.mapping(n, path, vaultKeys...)
	v := &Vault{
		Server:        f.required("server", httpsURL),
		CACert:        f.local("ca_cert").v,
		TLSServerName: f.str("tls_server_name", hostName).v,
	}
	switch {
	case f.has("approle") && f.has("kubernetes"):
		d.fail(f.vals["kubernetes"], join(path, "kubernetes"), "set exactly one of approle and kubernetes, not both")
	case !f.has("approle") && !f.has("kubernetes"):
		d.fail(n, path, "set exactly one of approle and kubernetes")
	case f.has("approle"):
		c, p := f.child("approle")
		v.AppRole = d.approle(c, p)
	default:
		c, p := f.child("kubernetes")
		v.Kubernetes = d.kubernetes(c, p)
	}
	if c, p := f.child("transit"); c != nil {
		t := d.mapping(c, p, transitKeys...)
		v.Transit = Transit{Key: t.required("key", keyName), Path: t.str("path", mountPath).v, Namespace: t.str("namespace", namespace).v}
	} else {
		d.fail(n, join(path, "transit"), "is required (transit: {key: ...})")
	}
	return v
}

// approle reads vault.approle; the secret id itself is never accepted here.
func (d *decoder) approle(n *yaml.Node, path string) *AppRole {
	f := d.mapping(n, path, approleKeys...)
	a := &AppRole{
		ID:         f.required("id", token),
		SecretFile: f.local("secret_file").v,
		SecretEnv:  f.str("secret_env", envName).v,
		Path:       f.str("path", mountPath).v,
		Namespace:  f.str("namespace", namespace).v,
	}
	if f.has("secret_file") && f.has("secret_env") {
		d.fail(f.vals["secret_env"], join(path, "secret_env"), "set at most one of secret_file and secret_env")
	}
	return a
}

// kubernetes reads vault.kubernetes.
func (d *decoder) kubernetes(n *yaml.Node, path string) *Kubernetes {
	f := d.mapping(n, path, kubernetesKeys...)
	return &Kubernetes{
		Role:      f.required("role", token),
		JWT:       f.required("jwt", nodePath),
		JWTFile:   f.local("jwt_file").v,
		Path:      f.str("path", mountPath).v,
		Namespace: f.str("namespace", namespace).v,
	}
}
