// Package vaultchecktest provides a fake HashiCorp Vault for the tests of
// every package that runs the Vault check (migrate/vaultcheck itself and
// the kmsctl commands): an httptest TLS server that answers the calls the
// preflight makes with the status codes and bodies of a real Vault 1.21.1,
// so the messages are tested against what Vault really says.
package vaultchecktest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The credentials and key the fake accepts by default. The secret values
// carry SHOULD-NEVER-APPEAR so a test can grep any output for them.
const (
	RoleID   = "role-id-1234"
	SecretID = "secret-id-SHOULD-NEVER-APPEAR"
	JWT      = "eyJhbGciOi.jwt-SHOULD-NEVER-APPEAR.sig"
	Token    = "hvs.token-SHOULD-NEVER-APPEAR"
	Accessor = "accessor-SHOULD-NEVER-APPEAR"
	Key      = "minkms-sealing-key"
	// Version is what sys/health reports.
	Version = "1.21.1"
)

// FakeVault is one fake Vault server. Change its fields before the code
// under test sends requests; they are read under the server's lock.
type FakeVault struct {
	// Server is the running TLS server; its certificate is self-signed.
	Server *httptest.Server

	mu sync.Mutex
	// Sealed makes every call but sys/health answer 503 "Vault is sealed".
	Sealed bool
	// Enterprise is reported by sys/health.
	Enterprise bool
	// AppRoleMount, RoleID and SecretID are the approle login accepted.
	AppRoleMount, RoleID, SecretID string
	// K8sMount, K8sRole and JWT are the kubernetes login accepted.
	K8sMount, K8sRole, JWT string
	// TransitMount and Key are the only transit mount and key that exist.
	TransitMount, Key string
	// Caps are the token's capabilities per path; a missing path is deny.
	Caps map[string][]string
	// Token is the client token a login returns.
	Token string
	// Latest and MinDecryption are the key's versions: keys/Key/rotate
	// adds one, keys/Key/config sets min_decryption_version.
	Latest, MinDecryption int

	bodies  []string
	headers []http.Header
}

// New starts a fake Vault with the lab's good set-up: approle at approle/,
// kubernetes at kubernetes/ (role minkms), transit/ with Key, and a token
// that may update transit/{encrypt,decrypt,hmac}/Key. It stops with t.
func New(t testing.TB) *FakeVault {
	t.Helper()
	v := &FakeVault{
		AppRoleMount: "approle", RoleID: RoleID, SecretID: SecretID,
		K8sMount: "kubernetes", K8sRole: "minkms", JWT: JWT,
		TransitMount: "transit", Key: Key, Token: Token,
		Caps: map[string][]string{}, Latest: 1, MinDecryption: 1,
	}
	for _, op := range []string{"encrypt", "decrypt", "hmac"} {
		v.Caps["transit/"+op+"/"+Key] = []string{"update"}
	}
	v.Server = httptest.NewUnstartedServer(http.HandlerFunc(v.serve))
	v.Server.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	v.Server.StartTLS()
	t.Cleanup(v.Server.Close)
	return v
}

// URL is the server's https://127.0.0.1:port address.
func (v *FakeVault) URL() string { return v.Server.URL }

// WriteCA writes the server's certificate as a PEM CA file in a temporary
// directory of t and returns its path.
func (v *FakeVault) WriteCA(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vault-ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: v.Server.Certificate().Raw})
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Headers returns the headers of every request so far, in order.
func (v *FakeVault) Headers() []http.Header {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.headers)
}

// Bodies returns the body of every request so far, in order.
func (v *FakeVault) Bodies() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.bodies)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func vaultError(w http.ResponseWriter, status int, msg string) {
	msgs := []string{}
	if msg != "" {
		msgs = append(msgs, msg)
	}
	writeJSON(w, status, map[string]any{"errors": msgs})
}

func (v *FakeVault) serve(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	v.bodies = append(v.bodies, string(raw))
	v.headers = append(v.headers, r.Header.Clone())
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch {
	case path == "sys/health":
		v.health(w)
	case v.Sealed:
		vaultError(w, http.StatusServiceUnavailable, "Vault is sealed")
	case strings.HasPrefix(path, "auth/"):
		v.login(w, path, body)
	case r.Header.Get("X-Vault-Token") != v.Token:
		vaultError(w, http.StatusForbidden, "permission denied")
	case path == "sys/capabilities-self":
		v.capabilities(w, body)
	case path == "sys/internal/ui/resultant-acl":
		v.resultantACL(w)
	case strings.Count(path, "/") == 3 && strings.Contains(path, "/keys/"):
		v.keyAdmin(w, path, body)
	default:
		v.transit(w, path, body)
	}
}

// keyAdmin answers <mount>/keys/<key>/{rotate,config} with update, and
// includes the versions in a key read (transit).
func (v *FakeVault) keyAdmin(w http.ResponseWriter, path string, body map[string]any) {
	parts := strings.Split(path, "/")
	switch {
	case !slices.Contains(v.Caps[path], "update"):
		vaultError(w, http.StatusForbidden, "permission denied")
	case parts[0] != v.TransitMount || parts[2] != v.Key:
		vaultError(w, http.StatusBadRequest, "encryption key not found")
	case parts[3] == "rotate":
		v.Latest++
		writeJSON(w, http.StatusOK, map[string]any{"data": v.keyData()})
	case parts[3] == "config":
		n, _ := body["min_decryption_version"].(float64)
		if int(n) > v.Latest || n < 0 {
			vaultError(w, http.StatusBadRequest, "cannot set min decryption version to a value greater than the latest version")
			return
		}
		v.MinDecryption = int(n)
		w.WriteHeader(http.StatusNoContent)
	default:
		vaultError(w, http.StatusNotFound, "")
	}
}

func (v *FakeVault) keyData() map[string]any {
	return map[string]any{"type": "aes256-gcm96", "latest_version": v.Latest, "min_decryption_version": v.MinDecryption}
}

func (v *FakeVault) health(w http.ResponseWriter) {
	status := http.StatusOK
	if v.Sealed {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{
		"initialized": true, "sealed": v.Sealed, "standby": v.Sealed, "version": Version,
		"enterprise": v.Enterprise, "server_time_utc": 1,
	})
}

// login answers like Vault: a wrong approle credential is 400, an unknown
// kubernetes role 400, a rejected JWT or a missing mount 403.
func (v *FakeVault) login(w http.ResponseWriter, path string, body map[string]any) {
	mount := strings.TrimSuffix(strings.TrimPrefix(path, "auth/"), "/login")
	switch {
	case mount == v.AppRoleMount:
		if body["role_id"] != v.RoleID || body["secret_id"] != v.SecretID {
			vaultError(w, http.StatusBadRequest, "invalid role or secret ID")
			return
		}
	case mount == v.K8sMount:
		if role, _ := body["role"].(string); role != v.K8sRole {
			vaultError(w, http.StatusBadRequest, `invalid role name "`+role+`"`)
			return
		}
		if body["jwt"] != v.JWT {
			vaultError(w, http.StatusForbidden, "permission denied")
			return
		}
	default:
		vaultError(w, http.StatusForbidden, "permission denied")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
		"client_token": v.Token, "accessor": Accessor,
		"policies": []string{"default", "minkms"}, "token_policies": []string{"default", "minkms"},
		"lease_duration": 2764800, "renewable": true,
	}})
}

// capabilities answers sys/capabilities-self: ["deny"] with 200 for a path
// the token may not use, as Vault does.
func (v *FakeVault) capabilities(w http.ResponseWriter, body map[string]any) {
	data := map[string]any{}
	paths, _ := body["paths"].([]any)
	for _, p := range paths {
		s, _ := p.(string)
		c, ok := v.Caps[s]
		if !ok {
			c = []string{"deny"}
		}
		data[s] = c
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (v *FakeVault) resultantACL(w http.ResponseWriter) {
	exact := map[string]any{"sys/capabilities-self": map[string]any{"capabilities": []string{"update"}}}
	for p, c := range v.Caps {
		exact[p] = map[string]any{"capabilities": c}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"exact_paths": exact, "glob_paths": map[string]any{}}})
}

// transit answers <mount>/<op>/<key>: 404 "no handler for route" for a
// missing mount, 403 without the capability (also for encrypt on a missing
// key, which needs create), 400 "encryption key not found" otherwise.
func (v *FakeVault) transit(w http.ResponseWriter, path string, body map[string]any) {
	parts := strings.Split(path, "/")
	if len(parts) != 3 || parts[0] != v.TransitMount {
		vaultError(w, http.StatusNotFound, `no handler for route "`+path+`". route entry not found.`)
		return
	}
	op, key := parts[1], parts[2]
	allowed := slices.Contains(v.Caps[path], "update") || (op == "keys" && slices.Contains(v.Caps[path], "read"))
	switch {
	case !allowed:
		vaultError(w, http.StatusForbidden, "permission denied")
	case key != v.Key && op == "encrypt":
		vaultError(w, http.StatusForbidden, "permission denied")
	case key != v.Key && op == "keys":
		vaultError(w, http.StatusNotFound, "")
	case key != v.Key:
		vaultError(w, http.StatusBadRequest, "encryption key not found")
	case op == "keys":
		writeJSON(w, http.StatusOK, map[string]any{"data": v.keyData()})
	default:
		transitOp(w, op, body)
	}
}

// transitOp fakes the cryptography: "ciphertext" is the reversed input,
// good enough to prove the round trip compares what comes back.
func transitOp(w http.ResponseWriter, op string, body map[string]any) {
	data := map[string]any{}
	str := func(k string) string { s, _ := body[k].(string); return s }
	switch op {
	case "encrypt":
		data["ciphertext"] = "vault:v1:" + reverse(str("plaintext"))
	case "decrypt":
		data["plaintext"] = reverse(strings.TrimPrefix(str("ciphertext"), "vault:v1:"))
	case "hmac":
		sum := sha256.Sum256([]byte(str("input")))
		data["hmac"] = "vault:v1:" + base64.StdEncoding.EncodeToString(sum[:])
	case "keys":
		data["type"], data["latest_version"] = "aes256-gcm96", 1
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}
