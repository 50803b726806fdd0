package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/pki"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// material is the per-lab key material, generated fresh by every up.
type material struct {
	n         int
	variant   standin.Variant
	ca        *pki.CA
	client    *pki.SSHKey
	apiKey    *pki.APIKey
	hsmKey    string
	users     []node.User
	hostKeys  []*pki.SSHKey
	nodeCerts []*pki.Leaf
	k8sJWT    string
}

// newMaterial generates all keys and writes the CA, client key and secrets into DIR.
func newMaterial(ctx context.Context, l labdir.Layout, n int, v standin.Variant) (*material, error) {
	m := &material{n: n, variant: v}
	var err error
	if m.ca, err = pki.NewCA(); err != nil {
		return nil, err
	}
	if m.client, err = pki.NewSSHKey("kmslab-client"); err != nil {
		return nil, err
	}
	if m.apiKey, err = pki.NewAPIKey(); err != nil {
		return nil, err
	}
	if m.hsmKey, err = pki.NewHSMKey(); err != nil {
		return nil, err
	}
	if v.AdminIdentity == standin.AdminDerived {
		// no admin.identity in config.yaml: the admin is the root API key
		// every node derives from its first HSM, the local key
		key, err := standin.LocalRootAPIKey(m.hsmKey)
		if err != nil {
			return nil, err
		}
		m.apiKey = &pki.APIKey{Key: key.String(), Identity: key.Identity().String()}
	}
	password, err := pki.RandomToken(18)
	if err != nil {
		return nil, err
	}
	hash, err := node.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	if m.users, err = node.LabUsers(hash); err != nil {
		return nil, err
	}
	if err := m.nodeKeys(); err != nil {
		return nil, err
	}
	if m.k8sJWT, err = mintK8sJWT(); err != nil {
		return nil, err
	}
	return m, m.save(l, password)
}

// nodeKeys makes each node's ssh host key and API certificate (SANs: node
// address, 127.0.0.1, node name).
func (m *material) nodeKeys() error {
	for _, s := range node.Specs(m.n) {
		hk, err := pki.NewSSHKey("root@" + s.Name())
		if err != nil {
			return err
		}
		leaf, err := m.ca.Issue(s.Name(), []string{s.Name(), "localhost"},
			[]net.IP{net.ParseIP(s.Address()), net.ParseIP("127.0.0.1")})
		if err != nil {
			return err
		}
		m.hostKeys, m.nodeCerts = append(m.hostKeys, hk), append(m.nodeCerts, leaf)
	}
	return nil
}

func (m *material) save(l labdir.Layout, password string) error {
	if err := m.ca.Save(l.CACert(), l.CAKey()); err != nil {
		return err
	}
	if err := os.WriteFile(l.ClientKey(), m.client.PrivatePEM, 0o600); err != nil {
		return fmt.Errorf("write client key: %w", err)
	}
	if err := os.WriteFile(l.ClientKey()+".pub", []byte(m.client.Authorized+" kmslab\n"), 0o644); err != nil {
		return fmt.Errorf("write client public key: %w", err)
	}
	for name, v := range map[string]string{labdir.SecretKmspwPassword: password,
		labdir.SecretAPIKey: m.apiKey.Key, labdir.SecretHSMKey: m.hsmKey, labdir.SecretK8sJWT: m.k8sJWT} {
		if err := l.WriteSecret(name, v); err != nil {
			return fmt.Errorf("write secret %s: %w", name, err)
		}
	}
	return nil
}

// mintK8sJWT makes the lab's service account token before the nodes boot, so it
// is in every node's /etc/minkms/k8s-token from the start; the Vault set-up
// keeps an existing DIR/secrets/k8s-jwt and the TokenReview endpoint accepts it.
func mintK8sJWT() (string, error) {
	sa, err := vaultlab.NewServiceAccount(vaultlab.K8sNamespace, vaultlab.K8sServiceAccount)
	if err != nil {
		return "", err
	}
	return vaultlab.MintServiceAccountJWT(sa)
}

// files is what node.Prepare writes for node s.
func (m *material) files(s node.Spec) node.Files {
	return node.Files{
		Spec: s, Nodes: m.n, Users: m.users, HSMKey: m.hsmKey, AdminIdentity: m.apiKey.Identity,
		HostKeyPEM: m.hostKeys[s.Index-1].PrivatePEM, HostKeyPub: m.hostKeys[s.Index-1].Authorized,
		ClientKey: m.client.Authorized, CAPEM: m.ca.CertPEM,
		CertPEM: m.nodeCerts[s.Index-1].CertPEM, KeyPEM: m.nodeCerts[s.Index-1].KeyPEM,
		K8sJWT: m.k8sJWT, Variant: m.variant,
	}
}
