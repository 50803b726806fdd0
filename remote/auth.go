package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// keyring loads identity files once per dialer: an encrypted key's
// passphrase is asked once per file, however many nodes use it.
type keyring struct {
	passphrase func(keyFile string) ([]byte, error)

	mu      sync.Mutex
	signers map[string]ssh.Signer
	errs    map[string]error
}

func newKeyring(passphrase func(string) ([]byte, error)) *keyring {
	return &keyring{passphrase: passphrase, signers: map[string]ssh.Signer{}, errs: map[string]error{}}
}

// signer returns the signer of file, loading (and prompting) on first use.
// A failure is remembered too, so a refused passphrase is not asked again.
func (k *keyring) signer(file string) (ssh.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.signers[file]; ok {
		return s, nil
	}
	if err, ok := k.errs[file]; ok {
		return nil, err
	}
	s, err := k.load(file)
	if err != nil {
		k.errs[file] = err
		return nil, err
	}
	k.signers[file] = s
	return s, nil
}

func (k *keyring) load(file string) (ssh.Signer, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading identity file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("parsing identity file %s: %w", file, err)
		}
		return s, nil
	}
	if k.passphrase == nil {
		return nil, fmt.Errorf("identity file %s is encrypted and no passphrase prompt is available", file)
	}
	pass, err := k.passphrase(file)
	if err != nil {
		return nil, fmt.Errorf("passphrase for %s: %w", file, err)
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
	clear(pass)
	if err != nil {
		return nil, fmt.Errorf("decrypting identity file %s: %w", file, err)
	}
	return s, nil
}

// authFor builds the single publickey method for h: its identity files
// first (the inventory's, else ssh_config's, else OpenSSH's defaults), then
// the ssh-agent keys unless IdentitiesOnly. One method is used because the
// SSH client never retries a method name it already tried. The returned
// func closes the agent connection once the handshake is over.
func (d *SSHDialer) authFor(h *hop) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	var offered []string
	for _, id := range h.identities {
		if !id.explicit {
			if _, err := os.Stat(id.file); err != nil {
				continue
			}
		}
		s, err := d.keys.signer(id.file)
		if err != nil {
			if id.explicit {
				return nil, nil, err
			}
			d.warnOnce("key:"+id.file, "warning: skipping SSH key %s: %v", id.file, err)
			continue
		}
		signers = append(signers, s)
		offered = append(offered, id.file)
	}
	done := func() {}
	if h.useAgent {
		var agentSigners []ssh.Signer
		agentSigners, done = d.agentSigners()
		signers = append(signers, agentSigners...)
		if len(agentSigners) > 0 {
			offered = append(offered, fmt.Sprintf("%d ssh-agent keys", len(agentSigners)))
		}
	}
	if len(signers) == 0 {
		done()
		return nil, nil, fmt.Errorf("%w: no usable ssh-agent (SSH_AUTH_SOCK), no identity_file, no IdentityFile in ssh_config and none of ~/.ssh/%s", errNoIdentity, strings.Join(DefaultIdentities, ", "))
	}
	d.debugf("ssh %s: offering %s", h.Name, strings.Join(offered, ", "))
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, done, nil
}

// agentSigners returns the keys of the agent at SSH_AUTH_SOCK, if any. An
// unusable agent is a warning, not an error: the identity file may suffice.
func (d *SSHDialer) agentSigners() ([]ssh.Signer, func()) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, func() {}
	}
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		d.warnf("warning: ssh-agent at SSH_AUTH_SOCK unusable: %v", err)
		return nil, func() {}
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		d.warnf("warning: ssh-agent at SSH_AUTH_SOCK unusable: %v", err)
		conn.Close()
		return nil, func() {}
	}
	return signers, func() { conn.Close() }
}
