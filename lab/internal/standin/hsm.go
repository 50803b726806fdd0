package standin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"aead.dev/mtls"
)

// interNodeInput is the fixed input from which every HSM derives the key that
// nodes use to trust each other.
const interNodeInput = "minkms-lab inter-node"

// LocalHSMName is the id of the local (soft) HSM: its rek.json key and its
// name under the legacy naming.
const LocalHSMName = "local"

// Names of the HSMs under the product naming (NamesProduct). Only the local
// one is confirmed by a public banner; the others follow its pattern.
const (
	ProductLocalName   = "hsm:minio:soft"
	ProductVaultName   = "hsm:hashicorp:vault"
	ProductOpenBaoName = "hsm:openssf:openbao"
	ProductMinKMSName  = "hsm:minio:minkms"
)

// ReportName is the name a node reports for the HSM with the given id under
// a naming. rek.json keeps ids, so that flipping a node's naming changes
// what it reports, never what it can unseal.
func ReportName(naming, id string) string {
	if naming != NamesProduct {
		return id
	}
	kind, _, _ := strings.Cut(id, ":")
	switch kind {
	case LocalHSMName:
		return ProductLocalName
	case KindVault:
		return ProductVaultName
	case KindOpenBao:
		return ProductOpenBaoName
	case KindMinKMS:
		return ProductMinKMSName
	}
	return id
}

// ReportNames maps ids to reported names in order, without duplicates (two
// Vault entries of different keys share one product name).
func ReportNames(naming string, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if n := ReportName(naming, id); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// idsNamed returns the ids among ids that a node reports as name.
func idsNamed(naming, name string, ids []string) []string {
	var out []string
	for _, id := range ids {
		if ReportName(naming, id) == name {
			out = append(out, id)
		}
	}
	return out
}

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
	// RootKeySeed derives the seed of the root API key of a config
	// without admin.identity (the lab's model; the product's derivation is
	// UNCONFIRMED).
	RootKeySeed(ctx context.Context) ([]byte, error)
}

// rootKeyInput is the fixed input from which an HSM derives the root API key.
const rootKeyInput = "minkms-lab root API key"

// RootAPIKey is the ed25519 API key ("k1:...") made from a 32-byte seed.
func RootAPIKey(seed []byte) (*mtls.EdDSAPrivateKey, error) {
	key, err := mtls.GenerateKeyEdDSA(bytes.NewReader(seed))
	if err != nil {
		return nil, fmt.Errorf("derive root API key: %w", err)
	}
	return key, nil
}

// LocalRootAPIKey is the root API key a node derives from the local HSM key
// hsmKey (MINIO_KMS_HSM_KEY) when it is the node's first HSM and the config
// has no admin.identity; lab up computes it the same way for env.sh.
func LocalRootAPIKey(hsmKey string) (*mtls.EdDSAPrivateKey, error) {
	h, err := ParseLocalKey(hsmKey)
	if err != nil {
		return nil, err
	}
	seed, _ := h.RootKeySeed(context.Background())
	return RootAPIKey(seed)
}

func hmacSHA256(key []byte, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
