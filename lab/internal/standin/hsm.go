package standin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
)

// interNodeInput is the fixed input from which every HSM derives the key that
// nodes use to trust each other.
const interNodeInput = "minkms-lab inter-node"

// LocalHSMName is the name of the local (soft) HSM in rek.json and ClusterStatus.
const LocalHSMName = "local"

// HSM seals and unseals the root encryption key (REK) and derives the
// inter-node key. Each configured key source (local key, Vault transit key)
// is one HSM.
type HSM interface {
	// Name is the HSM's entry name in rek.json and in ClusterStatus.
	Name() string
	// Seal encrypts the REK into a rek.json entry.
	Seal(ctx context.Context, rek []byte) (string, error)
	// Unseal decrypts a rek.json entry back into the REK.
	Unseal(ctx context.Context, entry string) ([]byte, error)
	// InterNodeKey derives the key that authenticates inter-node traffic.
	InterNodeKey(ctx context.Context) ([]byte, error)
}

func hmacSHA256(key []byte, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
