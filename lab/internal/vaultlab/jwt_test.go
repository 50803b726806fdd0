package vaultlab

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return ctx, cancel
}

func TestMintServiceAccountJWT(t *testing.T) {
	sa, err := NewServiceAccount("minio", "minkms")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(sa.UID) {
		t.Errorf("uid %q is not a v4 UUID", sa.UID)
	}
	token := mint(t, sa)
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	var header map[string]string
	decodePart(t, parts[0], &header)
	if header["alg"] != "ES256" || header["kid"] == "" {
		t.Errorf("header %v", header)
	}
	var claims map[string]any
	decodePart(t, parts[1], &claims)
	want := map[string]any{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:minio:minkms",
		claimNamespace: "minio", claimName: "minkms", claimUID: sa.UID, claimSecret: "minkms-token",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != 64 {
		t.Errorf("ES256 signature of %d bytes", len(sig))
	}
	got, err := ParseServiceAccountJWT(token)
	if err != nil || got.Namespace != sa.Namespace || got.Name != sa.Name || got.UID != sa.UID {
		t.Errorf("parsed %+v, %v", got, err)
	}
	if other := mint(t, sa); other == token {
		t.Error("two mints gave the same token: the key is not fresh")
	}
}

func decodePart(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestParseServiceAccountJWTRejects(t *testing.T) {
	noUID := b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{"`+claimNamespace+`":"minio","`+claimName+`":"minkms"}`)) + ".sig"
	tests := map[string]string{
		"not a JWS":   "abc",
		"bad base64":  "a.!!!.c",
		"bad json":    "a." + b64([]byte("{")) + ".c",
		"missing uid": noUID,
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseServiceAccountJWT(token); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestLoadTokenReviewAccept(t *testing.T) {
	dir := t.TempDir()
	sa, _ := NewServiceAccount("minio", "minkms")
	token := mint(t, sa)
	good := filepath.Join(dir, "k8s-jwt")
	if err := writeSecret(good, token); err != nil {
		t.Fatal(err)
	}
	accept, err := LoadTokenReviewAccept(good)
	if err != nil || len(accept) != 1 || accept[token].UID != sa.UID {
		t.Fatalf("accept %v, %v", accept, err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{bad, filepath.Join(dir, "missing")} {
		if _, err := LoadTokenReviewAccept(good, f); err == nil {
			t.Errorf("%s accepted", filepath.Base(f))
		}
	}
}
