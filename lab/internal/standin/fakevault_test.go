package standin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeVault is an httptest Vault with approle and kubernetes login and one
// transit mount; it records the namespace header of every request.
type fakeVault struct {
	*httptest.Server
	t *testing.T

	mu         sync.Mutex
	namespaces map[string]string // request path -> X-Vault-Namespace
	noHMAC     bool              // the token's policy lacks transit/hmac
	keys       map[string]*LocalHSM
}

const (
	fakeRoleID   = "role-1"
	fakeSecretID = "secret-1"
	fakeJWT      = "aaa.bbb.ccc"
	fakeToken    = "token-1"
)

func newFakeVault(t *testing.T) *fakeVault {
	v := &fakeVault{t: t, namespaces: map[string]string{}, keys: map[string]*LocalHSM{}}
	v.Server = httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.Close)
	return v
}

// newFakeVaultTLS serves HTTPS; caPEM is a file with its certificate.
func newFakeVaultTLS(t *testing.T) (v *fakeVault, caPEM string) {
	v = &fakeVault{t: t, namespaces: map[string]string{}, keys: map[string]*LocalHSM{}}
	v.Server = httptest.NewTLSServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.Close)
	caPEM = filepath.Join(t.TempDir(), "vault-ca.pem")
	writeFile(t, caPEM, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: v.Certificate().Raw})))
	return v, caPEM
}

func (v *fakeVault) namespaceOf(path string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.namespaces[path]
}

func (v *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	v.namespaces[r.URL.Path] = r.Header.Get("X-Vault-Namespace")
	v.mu.Unlock()
	var raw map[string]any
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		vaultReply(w, 400, map[string]any{"errors": []string{"bad json"}})
		return
	}
	in := map[string]string{}
	for k, x := range raw {
		in[k] = fmt.Sprint(x)
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "auth" && parts[len(parts)-1] == "login":
		v.login(w, in)
	case len(parts) == 3 && r.Header.Get("X-Vault-Token") == fakeToken:
		v.transit(w, parts[0], parts[1], parts[2], in)
	default:
		vaultReply(w, 403, map[string]any{"errors": []string{"permission denied"}})
	}
}

func (v *fakeVault) login(w http.ResponseWriter, in map[string]string) {
	if (in["role_id"] == fakeRoleID && in["secret_id"] == fakeSecretID) || (in["role"] == "minkms" && in["jwt"] == fakeJWT) {
		vaultReply(w, 200, map[string]any{"auth": map[string]any{"client_token": fakeToken}})
		return
	}
	vaultReply(w, 400, map[string]any{"errors": []string{"invalid role or secret ID"}})
}

func (v *fakeVault) key(mount, name string) *LocalHSM {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := mount + "/" + name
	if v.keys[id] == nil {
		v.keys[id] = mustLocal(v.t, newLocalKey(v.t))
	}
	return v.keys[id]
}

func (v *fakeVault) transit(w http.ResponseWriter, mount, op, name string, in map[string]string) {
	k := v.key(mount, name)
	ctx := context.Background()
	switch op {
	case "encrypt":
		ct, _ := k.Seal(ctx, []byte(in["plaintext"]))
		vaultReply(w, 200, map[string]any{"data": map[string]string{"ciphertext": "vault:v1:" + ct}})
	case "decrypt":
		pt, err := k.Unseal(ctx, strings.TrimPrefix(in["ciphertext"], "vault:v1:"))
		if err != nil {
			vaultReply(w, 400, map[string]any{"errors": []string{"cipher: message authentication failed"}})
			return
		}
		vaultReply(w, 200, map[string]any{"data": map[string]string{"plaintext": string(pt)}})
	case "hmac":
		v.mu.Lock()
		denied := v.noHMAC
		v.mu.Unlock()
		if denied {
			vaultReply(w, 403, map[string]any{"errors": []string{"1 error occurred:\n\t* permission denied\n\n"}})
			return
		}
		if kv := in["key_version"]; kv != "" && kv != "1" { // the stand-in pins its HMACs to version 1
			vaultReply(w, 400, map[string]any{"errors": []string{"hmac without key_version 1"}})
			return
		}
		m := hmac.New(sha256.New, k.key)
		m.Write([]byte(in["input"]))
		vaultReply(w, 200, map[string]any{"data": map[string]string{"hmac": "vault:v1:" + base64.StdEncoding.EncodeToString(m.Sum(nil))}})
	default:
		vaultReply(w, 404, map[string]any{"errors": []string{"unsupported path"}})
	}
}

func (v *fakeVault) denyHMAC() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.noHMAC = true
}

func vaultReply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// vaultBlock renders an hsm.hashicorp.vault block for server with approle.
func vaultBlock(server, transitPath string) string {
	return "hsm:\n  hashicorp:\n    vault:\n      server: " + server +
		"\n      approle:\n        id: " + fakeRoleID + "\n        secret: " + fakeSecretID +
		"\n      transit:\n        key: minkms-sealing-key\n        path: " + transitPath + "\n"
}
