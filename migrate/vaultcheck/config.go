package vaultcheck

import (
	"errors"
	"os"
	"time"

	"github.com/kmsctl/kmsctl/migrate/configedit"
)

// Config is the Vault block exactly as it will be written to the nodes
// (the one settings type, configedit.VaultSettings, with its defaults), plus
// what only the operator's side of the check needs.
type Config struct {
	configedit.VaultSettings
	// CACertFile is the PEM CA bundle that signs Vault's certificate
	// (VAULT_CACERT, then VAULT_CAPATH, then the system roots when empty).
	CACertFile string
	// TLSServerName overrides the name verified in Vault's certificate (VAULT_TLS_SERVER_NAME).
	TLSServerName string
	// KubernetesToken is the service account token the nodes present when
	// Kubernetes.JWT names a token file on the nodes; empty means
	// Kubernetes.JWT is the token itself. Secret, never shown.
	KubernetesToken string
}

// Options tune a run without changing what is checked.
type Options struct {
	// SkipNodes skips the checks from the nodes (--skip-nodes).
	SkipNodes bool
	// Parallel bounds how many nodes are checked at once (default 8).
	Parallel int
	// Timeout bounds each request to Vault (default 10s).
	Timeout time.Duration
	// Getenv reads VAULT_* variables; nil means os.Getenv. Tests replace it.
	Getenv func(string) string
}

// Defaults of a run (the block's mount defaults are configedit's).
const (
	defaultParallel = 8
	defaultTimeout  = 10 * time.Second
)

// resolved is Config after defaults and VAULT_* variables, plus where each
// TLS setting came from (shown in the details of the first check).
type resolved struct {
	Config
	caSource     string // "vault.ca_cert", "VAULT_CACERT", "VAULT_CAPATH" or "system roots"
	caPath       string // VAULT_CAPATH directory, when used
	ignoredEnv   []string
	authMethod   string // "approle" or "kubernetes"
	authPath     string
	authNS       string
	transitPath  string
	transitNS    string
	nodeTimeout  time.Duration
	reqTimeout   time.Duration
	parallelism  int
	secretValues []string
}

// Validate reports an unusable Config (a mapping error of the caller, not a
// Vault problem): no server, no or two login methods, no transit key.
func (c Config) Validate() error {
	var errs []error
	if (c.AppRole == nil) == (c.Kubernetes == nil) {
		errs = append(errs, errors.New("exactly one of approle and kubernetes must be set"))
	}
	if c.AppRole != nil && (c.AppRole.ID == "" || c.AppRole.Secret == "") {
		errs = append(errs, errors.New("approle needs an id and a secret id"))
	}
	if c.Kubernetes != nil && (c.Kubernetes.Role == "" || c.kubernetesToken() == "") {
		errs = append(errs, errors.New("kubernetes needs a role and a jwt"))
	}
	if c.Transit.Key == "" {
		errs = append(errs, errors.New("transit key is required"))
	}
	return errors.Join(errs...)
}

// resolve applies defaults and the VAULT_* variables; the inventory wins.
func resolve(c Config, o Options) (*resolved, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if c.Server == "" {
		c.Server = getenv("VAULT_ADDR")
	}
	if c.Server == "" {
		return nil, errors.New("preflight: no Vault server (vault.server or VAULT_ADDR)")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := &resolved{Config: c, reqTimeout: o.Timeout, parallelism: o.Parallel}
	r.resolveTLS(getenv)
	r.resolveAuth()
	r.transitPath = c.Transit.MountPath()
	r.transitNS = c.Transit.Namespace
	if r.reqTimeout <= 0 {
		r.reqTimeout = defaultTimeout
	}
	r.nodeTimeout = r.reqTimeout
	if r.parallelism <= 0 {
		r.parallelism = defaultParallel
	}
	return r, nil
}

func (r *resolved) resolveTLS(getenv func(string) string) {
	switch {
	case r.CACertFile != "":
		r.caSource = "vault.ca_cert"
	case getenv("VAULT_CACERT") != "":
		r.CACertFile, r.caSource = getenv("VAULT_CACERT"), "VAULT_CACERT"
	case getenv("VAULT_CAPATH") != "":
		r.caPath, r.caSource = getenv("VAULT_CAPATH"), "VAULT_CAPATH"
	default:
		r.caSource = "system roots"
	}
	if r.TLSServerName == "" {
		r.TLSServerName = getenv("VAULT_TLS_SERVER_NAME")
	}
	// Variables that would make this check differ from what the nodes do.
	for _, v := range []string{"VAULT_SKIP_VERIFY", "VAULT_TOKEN", "VAULT_NAMESPACE"} {
		if getenv(v) != "" {
			r.ignoredEnv = append(r.ignoredEnv, v)
		}
	}
}

func (r *resolved) resolveAuth() {
	if a := r.AppRole; a != nil {
		r.authMethod, r.authPath, r.authNS = "approle", a.MountPath(), a.Namespace
		r.secretValues = append(r.secretValues, a.Secret)
		return
	}
	k := r.Kubernetes
	r.authMethod, r.authPath, r.authNS = "kubernetes", k.MountPath(), k.Namespace
	r.secretValues = append(r.secretValues, r.kubernetesToken())
}

// kubernetesToken is the token the kubernetes login presents.
func (c Config) kubernetesToken() string {
	if c.KubernetesToken != "" {
		return c.KubernetesToken
	}
	return c.Kubernetes.JWT
}

// keyPath returns <transit>/<op>/<key>, the path the policy must grant.
func (r *resolved) keyPath(op string) string {
	return r.transitPath + "/" + op + "/" + r.Transit.Key
}

// namespaces lists the configured namespaces, for the namespace check.
func (r *resolved) namespaces() map[string]string {
	out := map[string]string{}
	if r.authNS != "" {
		out[r.authMethod] = r.authNS
	}
	if r.transitNS != "" {
		out["transit"] = r.transitNS
	}
	return out
}
