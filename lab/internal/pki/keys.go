package pki

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"

	"aead.dev/mtls"
	"golang.org/x/crypto/ssh"
)

// SSHKey is an ed25519 key pair in the formats OpenSSH reads: the private key as
// an OpenSSH PEM file and the public key as an authorized_keys line.
type SSHKey struct {
	PrivatePEM []byte
	// Authorized is "ssh-ed25519 AAAA..." without a trailing newline.
	Authorized string
}

// NewSSHKey generates an ed25519 key for a node's host key or the lab's client key.
func NewSSHKey(comment string) (*SSHKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("marshal ssh private key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ssh public key: %w", err)
	}
	line := string(ssh.MarshalAuthorizedKey(sshPub))
	return &SSHKey{PrivatePEM: pem.EncodeToMemory(block), Authorized: line[:len(line)-1]}, nil
}

// APIKey is the key manager admin credential: the "k1:" key that clients hold and
// the "h1:" identity that config.yaml's admin.identity must name. Both come from
// aead.dev/mtls, the encoding the minkms CLI and kms-go use.
type APIKey struct {
	Key      string
	Identity string
}

// NewAPIKey generates an ed25519 API key.
func NewAPIKey() (*APIKey, error) {
	key, err := mtls.GenerateKeyEdDSA(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate API key: %w", err)
	}
	return &APIKey{Key: key.String(), Identity: key.Identity().String()}, nil
}

// NewHSMKey returns a fresh local HSM key "hsm:aes256:<base64 std of 32 bytes>",
// the format of MINIO_KMS_HSM_KEY.
func NewHSMKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate HSM key: %w", err)
	}
	return "hsm:aes256:" + base64.StdEncoding.EncodeToString(b[:]), nil
}

// RandomToken returns n random bytes as unpadded base64url, for passwords and ids.
func RandomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
