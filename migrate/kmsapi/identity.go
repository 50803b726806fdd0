package kmsapi

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"aead.dev/mtls"
)

// certValidity matches the lifetime the key manager SDK gives the
// self-signed certificate it derives from an API key.
const certValidity = 90 * 24 * time.Hour

// errAPIKey is returned for an API key that does not parse. The key itself
// is never part of the message.
var errAPIKey = errors.New("kmsapi: invalid API key (want k1:...)")

// APIKeyIdentity returns the identity (h1:...) of an API key, the value an
// operator puts into admin.identity, so kmsctl can explain a 403 by
// comparing it with the node's config.
func APIKeyIdentity(apiKey string) (string, error) {
	key, err := mtls.ParsePrivateKey(apiKey)
	if err != nil {
		return "", errAPIKey
	}
	return key.Identity().String(), nil
}

// clientCertificate turns an API key into the TLS client certificate the
// minkms CLI presents: self-signed with the key pair of the API key, subject
// CN = the key's identity, client-auth usage, valid for 90 days. The server
// identifies the client by the hash of the public key, not by the CN.
func clientCertificate(apiKey string) (tls.Certificate, error) {
	key, err := mtls.ParsePrivateKey(apiKey)
	if err != nil {
		return tls.Certificate{}, errAPIKey
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kmsapi: certificate serial: %w", err)
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: key.Identity().String()},
		NotBefore:             now,
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key.Private())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kmsapi: client certificate: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key.Private())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kmsapi: client key: %w", err)
	}
	cert, err := tls.X509KeyPair(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}),
	)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kmsapi: client key pair: %w", err)
	}
	cert.Leaf, err = x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kmsapi: client certificate: %w", err)
	}
	return cert, nil
}
