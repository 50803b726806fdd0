package standin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// LocalKeyEnv is the environment variable that holds the local HSM key.
const LocalKeyEnv = "MINIO_KMS_HSM_KEY"

// rekAAD binds a sealed entry to its purpose.
var rekAAD = []byte("minkms-lab root encryption key")

// LocalHSM is the soft HSM whose key comes from MINIO_KMS_HSM_KEY.
type LocalHSM struct {
	key    []byte
	chacha bool // hsm:chacha20: seal with ChaCha20-Poly1305, else AES-256-GCM
}

// Local key prefixes: hsm:aes256: keys are 55 characters, hsm:chacha20:
// keys 57 (the official Helm chart accepts both).
const (
	prefixAES256   = "hsm:aes256:"
	prefixChaCha20 = "hsm:chacha20:"
)

// ParseLocalKey parses "hsm:aes256:<base64 of 32 bytes>" or
// "hsm:chacha20:<base64 of 32 bytes>". The error never contains the key.
func ParseLocalKey(s string) (*LocalHSM, error) {
	h := &LocalHSM{}
	rest, ok := strings.CutPrefix(s, prefixAES256)
	if !ok {
		rest, h.chacha = strings.CutPrefix(s, prefixChaCha20)
	}
	if !ok && !h.chacha {
		return nil, fmt.Errorf("%s: want the format hsm:aes256:<base64> or hsm:chacha20:<base64>", LocalKeyEnv)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s: the key must be 32 bytes in standard base64", LocalKeyEnv)
	}
	h.key = key
	return h, nil
}

// Name implements HSM.
func (h *LocalHSM) Name() string { return LocalHSMName }

// Seal implements HSM with AES-256-GCM (or ChaCha20-Poly1305):
// base64(nonce || ciphertext).
func (h *LocalHSM) Seal(_ context.Context, rek []byte) (string, error) {
	aead, err := h.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("local: nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, rek, rekAAD)), nil
}

// Unseal implements HSM; a wrong key fails authentication.
func (h *LocalHSM) Unseal(_ context.Context, entry string) ([]byte, error) {
	aead, err := h.aead()
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(entry)
	if err != nil || len(data) < aead.NonceSize() {
		return nil, errors.New("local: malformed rek.json entry")
	}
	n := aead.NonceSize()
	rek, err := aead.Open(nil, data[:n], data[n:], rekAAD)
	if err != nil {
		return nil, errors.New("local: wrong key: the sealed root encryption key does not decrypt with MINIO_KMS_HSM_KEY")
	}
	return rek, nil
}

// InterNodeKey implements HSM: HMAC-SHA256(local key, fixed input).
func (h *LocalHSM) InterNodeKey(context.Context) ([]byte, error) {
	return hmacSHA256(h.key, []byte(interNodeInput)), nil
}

// RootKeySeed implements HSM: HMAC-SHA256(local key, fixed input).
func (h *LocalHSM) RootKeySeed(context.Context) ([]byte, error) {
	return hmacSHA256(h.key, []byte(rootKeyInput)), nil
}

func (h *LocalHSM) aead() (cipher.AEAD, error) {
	if h.chacha {
		aead, err := chacha20poly1305.New(h.key)
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		return aead, nil
	}
	block, err := aes.NewCipher(h.key)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return aead, nil
}
