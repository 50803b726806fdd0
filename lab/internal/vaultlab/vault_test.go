package vaultlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// labVault is a real Vault started and set up by this package, with the
// TokenReview endpoint running next to it.
type labVault struct {
	srv   *Server
	cfg   Config
	creds *Creds
	pki   testPKI
}

// startLabVault starts Vault on loopback with a throwaway CA and runs
// Setup; it skips only when the Vault binary has not been built.
func startLabVault(t *testing.T) *labVault {
	t.Helper()
	if _, err := os.Stat(BinaryPath()); err != nil {
		t.Skipf("Vault binary not built (%v); build it with vaultlab.Build or `go build` in lab/vault", err)
	}
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	cfg := Config{
		Dir: filepath.Join(dir, "vault"), SecretsDir: filepath.Join(dir, "secrets"),
		Addr: freeAddr(t), DevAddr: freeAddr(t), K8sAddr: freeAddr(t),
		CertFile: pki.certFile, KeyFile: pki.keyFile, CAFile: pki.caFile,
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	began := time.Now()
	srv, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		// Through the pid file: the test may have replaced srv.
		if h, err := Open(cfg); err != nil {
			t.Errorf("Open: %v", err)
		} else if err := h.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	started := time.Now()
	creds, err := srv.Setup(ctx)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Logf("Start took %v, Setup took %v", started.Sub(began), time.Since(started))
	serveTokenReview(t, cfg, pki, creds.K8sJWTFile)
	return &labVault{srv: srv, cfg: cfg, creds: creds, pki: pki}
}

// serveTokenReview runs ServeTokenReview for the lab JWT until the test
// ends and waits until it listens.
func serveTokenReview(t *testing.T, cfg Config, pki testPKI, jwtFile string) {
	t.Helper()
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(pki.caFile); err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("lab CA: %v", err)
	}
	accept, err := LoadTokenReviewAccept(jwtFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeTokenReview(ctx, cfg.K8sAddr, pki.certFile, pki.keyFile, accept) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeTokenReview: %v", err)
		}
	})
	for range 100 {
		// A full handshake, so the server logs no aborted one.
		if c, err := tls.Dial("tcp", cfg.K8sAddr, &tls.Config{RootCAs: pool}); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("TokenReview endpoint does not listen")
}

// approleLogin logs in at mount with the role id and the secret id file.
func (v *labVault) approleLogin(t *testing.T, mount, roleID, secretFile string) (*api.Client, *api.Secret) {
	t.Helper()
	secretID, err := readSecret(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	c := v.client(t, "")
	sec, err := c.Logical().Write("auth/"+mount+"/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	if err != nil {
		t.Fatalf("approle login at %s: %v", mount, err)
	}
	c.SetToken(sec.Auth.ClientToken)
	return c, sec
}

func (v *labVault) client(t *testing.T, token string) *api.Client {
	t.Helper()
	c, err := v.srv.Client(token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// encrypt returns the transit ciphertext of plaintext.
func encrypt(t *testing.T, c *api.Client, mount string, plaintext []byte) string {
	t.Helper()
	sec, err := c.Logical().Write(mount+"/encrypt/"+KeyName, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plaintext)})
	if err != nil {
		t.Fatalf("encrypt at %s: %v", mount, err)
	}
	return sec.Data["ciphertext"].(string)
}

// decrypt returns the plaintext of a transit ciphertext.
func decrypt(c *api.Client, mount, ciphertext string) ([]byte, error) {
	sec, err := c.Logical().Write(mount+"/decrypt/"+KeyName, map[string]any{"ciphertext": ciphertext})
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(sec.Data["plaintext"].(string))
}

// hmac returns the transit HMAC of input, or the error.
func hmac(c *api.Client, mount string, input []byte) (string, error) {
	sec, err := c.Logical().Write(mount+"/hmac/"+KeyName, map[string]any{"input": base64.StdEncoding.EncodeToString(input)})
	if err != nil {
		return "", err
	}
	return sec.Data["hmac"].(string), nil
}

func TestLabVault(t *testing.T) {
	v := startLabVault(t)
	t.Run("secret files are 0600", v.testSecretModes)
	t.Run("approle logins", v.testApproleLogins)
	t.Run("capabilities", v.testCapabilities)
	t.Run("transit", v.testTransit)
	t.Run("kubernetes login", v.testKubernetesLogin)
	t.Run("setup is idempotent", v.testSetupAgain)
	t.Run("seal and unseal keep the key", v.testSealUnseal)
	t.Run("stop and start keep the key", v.testStopStart)
}

func (v *labVault) testSecretModes(t *testing.T) {
	files := []string{
		v.creds.ApproleSecretFile, v.creds.Approle2SecretFile, v.creds.NoHMACSecretFile,
		v.creds.K8sJWTFile, v.creds.RootTokenFile, v.cfg.SecretPath(UnsealKeyFile),
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	log, err := os.ReadFile(v.cfg.logPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		secret, _ := readSecret(f)
		if strings.Contains(string(log), secret) {
			t.Errorf("the Vault log contains the secret of %s", filepath.Base(f))
		}
	}
}

func (v *labVault) testApproleLogins(t *testing.T) {
	tests := []struct {
		mount, roleID, secretFile, policy string
	}{
		{ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile, PolicyMinkms},
		{Approle2Mount, v.creds.Approle2ID, v.creds.Approle2SecretFile, Policy2},
		{ApproleMount, v.creds.NoHMACRoleID, v.creds.NoHMACSecretFile, PolicyNoHMAC},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			_, sec := v.approleLogin(t, tt.mount, tt.roleID, tt.secretFile)
			if !slices.Contains(sec.Auth.Policies, tt.policy) {
				t.Errorf("policies %v lack %s", sec.Auth.Policies, tt.policy)
			}
			_, err := v.client(t, "").Logical().Write("auth/"+tt.mount+"/login",
				map[string]any{"role_id": tt.roleID, "secret_id": "00000000-0000-0000-0000-000000000000"})
			if err == nil {
				t.Error("login with a wrong secret id succeeded")
			}
		})
	}
	// Vault's user lockout (5 failures in 15 minutes) is off in the lab:
	// tests fail logins on purpose and must not lock later tests out.
	for i := 0; i < 7; i++ {
		_, _ = v.client(t, "").Logical().Write("auth/"+ApproleMount+"/login",
			map[string]any{"role_id": v.creds.ApproleID, "secret_id": "00000000-0000-0000-0000-000000000000"})
	}
	v.approleLogin(t, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile)
}

func (v *labVault) testCapabilities(t *testing.T) {
	path := func(mount, op string) string { return mount + "/" + op + "/" + KeyName }
	update, deny := []string{"update"}, []string{"deny"}
	tests := []struct {
		name, mount, roleID, secretFile string
		want                            map[string][]string
	}{
		{"minkms", ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile, map[string][]string{
			path(TransitMount, "encrypt"): update, path(TransitMount, "decrypt"): update,
			path(TransitMount, "hmac"): update, TransitMount + "/keys/" + KeyName: deny,
			path(TransitMount, "rewrap"): deny, path(Transit2Mount, "encrypt"): deny,
		}},
		{"minkms2", Approle2Mount, v.creds.Approle2ID, v.creds.Approle2SecretFile, map[string][]string{
			path(Transit2Mount, "encrypt"): update, path(Transit2Mount, "decrypt"): update,
			path(Transit2Mount, "hmac"): update, path(TransitMount, "encrypt"): deny,
		}},
		{"nohmac", ApproleMount, v.creds.NoHMACRoleID, v.creds.NoHMACSecretFile, map[string][]string{
			path(TransitMount, "encrypt"): update, path(TransitMount, "decrypt"): update,
			path(TransitMount, "hmac"): deny,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := v.approleLogin(t, tt.mount, tt.roleID, tt.secretFile)
			for p, want := range tt.want {
				got, err := c.Sys().CapabilitiesSelf(p)
				if err != nil {
					t.Fatalf("capabilities-self %s: %v", p, err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: capabilities %v, want %v", p, got, want)
				}
			}
		})
	}
}

func (v *labVault) testTransit(t *testing.T) {
	tests := []struct {
		name, mount, authMount, roleID, secretFile string
		hmacWorks                                  bool
	}{
		{"minkms", TransitMount, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile, true},
		{"minkms2", Transit2Mount, Approle2Mount, v.creds.Approle2ID, v.creds.Approle2SecretFile, true},
		{"nohmac", TransitMount, ApproleMount, v.creds.NoHMACRoleID, v.creds.NoHMACSecretFile, false},
	}
	plain := []byte("a root encryption key of 32 byte")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := v.approleLogin(t, tt.authMount, tt.roleID, tt.secretFile)
			ct := encrypt(t, c, tt.mount, plain)
			if !strings.HasPrefix(ct, "vault:v1:") {
				t.Errorf("ciphertext %q lacks vault:v1:", ct)
			}
			got, err := decrypt(c, tt.mount, ct)
			if err != nil || string(got) != string(plain) {
				t.Errorf("decrypt: %q, %v", got, err)
			}
			mac, err := hmac(c, tt.mount, plain)
			if tt.hmacWorks != (err == nil) {
				t.Fatalf("hmac works = %v (err %v), want %v", err == nil, err, tt.hmacWorks)
			}
			if tt.hmacWorks && !strings.HasPrefix(mac, "vault:v1:") {
				t.Errorf("hmac %q lacks vault:v1:", mac)
			}
		})
	}
}

func (v *labVault) testSetupAgain(t *testing.T) {
	jwt, _ := readSecret(v.creds.K8sJWTFile)
	c, _ := v.approleLogin(t, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile)
	ct := encrypt(t, c, TransitMount, []byte("before"))
	creds, err := v.srv.Setup(context.Background())
	if err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if creds.ApproleID != v.creds.ApproleID {
		t.Errorf("role id changed: %s -> %s", v.creds.ApproleID, creds.ApproleID)
	}
	if again, _ := readSecret(creds.K8sJWTFile); again != jwt {
		t.Error("second Setup replaced the service account token")
	}
	c, _ = v.approleLogin(t, ApproleMount, creds.ApproleID, creds.ApproleSecretFile)
	if got, err := decrypt(c, TransitMount, ct); err != nil || string(got) != "before" {
		t.Errorf("decrypt after second Setup: %q, %v", got, err)
	}
}

func (v *labVault) testSealUnseal(t *testing.T) {
	ctx := context.Background()
	c, _ := v.approleLogin(t, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile)
	ct := encrypt(t, c, TransitMount, []byte("sealed secret"))
	if err := v.srv.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := v.srv.Status(ctx)
	if err != nil || !st.Answering || !st.Sealed || st.PID == 0 {
		t.Errorf("status while sealed: %+v, %v", st, err)
	}
	var re *api.ResponseError
	if _, err := decrypt(c, TransitMount, ct); !errors.As(err, &re) || re.StatusCode != 503 {
		t.Errorf("decrypt while sealed: %v, want a 503", err)
	}
	if err := v.srv.Unseal(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := decrypt(c, TransitMount, ct); err != nil || string(got) != "sealed secret" {
		t.Errorf("decrypt after unseal: %q, %v", got, err)
	}
}

func (v *labVault) testStopStart(t *testing.T) {
	ctx := context.Background()
	c, _ := v.approleLogin(t, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile)
	ct := encrypt(t, c, TransitMount, []byte("survives a stop"))
	if _, err := Start(ctx, v.cfg); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Start while running: %v", err)
	}
	// A fresh handle, as `lab fault vault stop` has in a later process.
	other, err := Open(v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// A fresh client: a pooled connection would see a reset instead.
	if _, err := v.client(t, "").Sys().Health(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("health while stopped: %v, want connection refused", err)
	}
	if st, err := v.srv.Status(ctx); err != nil || st.PID != 0 {
		t.Errorf("status while stopped: %+v, %v", st, err)
	}
	began := time.Now()
	if v.srv, err = Start(ctx, v.cfg); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start on existing storage took %v", time.Since(began))
	if err := v.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ = v.approleLogin(t, ApproleMount, v.creds.ApproleID, v.creds.ApproleSecretFile)
	if got, err := decrypt(c, TransitMount, ct); err != nil || string(got) != "survives a stop" {
		t.Errorf("decrypt after stop, start and restart: %q, %v", got, err)
	}
}
