package vaultlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ServiceAccount is a Kubernetes service account as a TokenReview reports
// it; the lab's is minio/minkms.
type ServiceAccount struct {
	Namespace, Name, UID string
	// Audiences of the token; empty for a legacy (secret-based) token,
	// which a real API server treats as valid for its own audiences.
	Audiences []string
}

// Username is the Kubernetes user name of the service account, the form
// Vault's kubernetes auth requires in a TokenReview answer.
func (sa ServiceAccount) Username() string {
	return "system:serviceaccount:" + sa.Namespace + ":" + sa.Name
}

// Claim names of a legacy service-account token, as Kubernetes writes them
// and vault-plugin-auth-kubernetes v0.23 reads them.
const (
	claimNamespace = "kubernetes.io/serviceaccount/namespace"
	claimSecret    = "kubernetes.io/serviceaccount/secret.name"
	claimName      = "kubernetes.io/serviceaccount/service-account.name"
	claimUID       = "kubernetes.io/serviceaccount/service-account.uid"
	saIssuer       = "kubernetes/serviceaccount"
)

// NewServiceAccount returns sa namespace/name with a fresh random UID, as
// Kubernetes assigns one when the account is created.
func NewServiceAccount(namespace, name string) (ServiceAccount, error) {
	u := make([]byte, 16)
	if _, err := rand.Read(u); err != nil {
		return ServiceAccount{}, fmt.Errorf("vaultlab: service account uid: %w", err)
	}
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80 // UUID version 4
	uid := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	return ServiceAccount{Namespace: namespace, Name: name, UID: uid}, nil
}

// MintServiceAccountJWT returns an ES256-signed legacy service-account
// token for sa with the claims a Kubernetes token controller writes. The
// signing key is fresh and discarded: like a real cluster's, the token is
// only good through the TokenReview endpoint that knows it.
func MintServiceAccountJWT(sa ServiceAccount) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("vaultlab: service account signing key: %w", err)
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return "", fmt.Errorf("vaultlab: encode signing key: %w", err)
	}
	kid := sha256.Sum256(pub)
	header := map[string]string{"alg": "ES256", "kid": b64(kid[:16])}
	claims := map[string]any{
		"iss": saIssuer, "sub": sa.Username(),
		claimNamespace: sa.Namespace, claimSecret: sa.Name + "-token",
		claimName: sa.Name, claimUID: sa.UID,
	}
	if len(sa.Audiences) > 0 {
		claims["aud"] = sa.Audiences
	}
	signing, err := encodeParts(header, claims)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("vaultlab: sign service account token: %w", err)
	}
	sig := make([]byte, 64) // JWS ES256: r and s, 32 bytes each
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + b64(sig), nil
}

// encodeParts is the JWS signing input: base64url(header).base64url(claims).
func encodeParts(header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("vaultlab: encode jwt header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("vaultlab: encode jwt claims: %w", err)
	}
	return b64(h) + "." + b64(c), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// ParseServiceAccountJWT reads the service account out of a token minted
// by MintServiceAccountJWT, without checking the signature: it serves the
// TokenReview endpoint, which trusts tokens by exact match, not by key.
func ParseServiceAccountJWT(token string) (ServiceAccount, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ServiceAccount{}, errors.New("vaultlab: service account token is not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ServiceAccount{}, fmt.Errorf("vaultlab: service account token claims: %w", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return ServiceAccount{}, fmt.Errorf("vaultlab: service account token claims: %w", err)
	}
	sa := ServiceAccount{}
	sa.Namespace, _ = c[claimNamespace].(string)
	sa.Name, _ = c[claimName].(string)
	sa.UID, _ = c[claimUID].(string)
	if aud, ok := c["aud"].([]any); ok {
		for _, a := range aud {
			if s, ok := a.(string); ok {
				sa.Audiences = append(sa.Audiences, s)
			}
		}
	}
	if sa.Namespace == "" || sa.Name == "" || sa.UID == "" {
		return ServiceAccount{}, errors.New("vaultlab: service account token lacks namespace, name or uid")
	}
	return sa, nil
}

// LoadTokenReviewAccept reads the token files (DIR/secrets/k8s-jwt) and
// returns the accept map for ServeTokenReview: token -> service account.
func LoadTokenReviewAccept(files ...string) (map[string]ServiceAccount, error) {
	accept := make(map[string]ServiceAccount, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("vaultlab: read service account token: %w", err)
		}
		token := strings.TrimSpace(string(b))
		sa, err := ParseServiceAccountJWT(token)
		if err != nil {
			return nil, fmt.Errorf("%w (file %s)", err, f)
		}
		accept[token] = sa
	}
	return accept, nil
}
