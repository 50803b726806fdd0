package standin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"

	"github.com/kmsctl/kmsctl/lab/internal/sdkwire"
)

// TestSDKKeyOperations drives a three-node stand-in cluster with the public
// SDK's client: enclaves and keys are created through any node (the leader
// replicates to all), read on every node, and the SDK's error values come
// back for conflicts, unknown names and bad ciphertexts; writes need every
// node up, reads do not.
func TestSDKKeyOperations(t *testing.T) {
	t.Parallel()
	key := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{localKey: key}, {localKey: key}, {localKey: key}})
	c.start(t)
	c.wantHealthy(t, 1, 4*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	on := func(node int) *kms.Client { return c.client(t, c.admin, c.addrs[node-1]) }

	if err := on(2).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: "tenant"}); err != nil {
		t.Fatalf("CreateEnclave: %v", err)
	}
	wantErr(t, "CreateEnclave again", on(1).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: "tenant"}), kms.ErrEnclaveExists)
	st, err := on(3).EnclaveStatus(ctx, &kms.EnclaveStatusRequest{Name: "tenant"})
	if err != nil || st[0].Name != "tenant" || st[0].CreatedBy != c.admin.Identity() || time.Since(st[0].CreatedAt) > time.Minute {
		t.Fatalf("EnclaveStatus: %+v, %v", st, err)
	}
	_, err = on(1).EnclaveStatus(ctx, &kms.EnclaveStatusRequest{Name: "nope"})
	wantErr(t, "EnclaveStatus unknown", err, kms.ErrEnclaveNotFound)

	for _, name := range []string{"key-b", "key-a", "other"} {
		if err := on(3).CreateKey(ctx, "tenant", &kms.CreateKeyRequest{Name: name}); err != nil {
			t.Fatalf("CreateKey %s: %v", name, err)
		}
	}
	wantErr(t, "CreateKey again", on(1).CreateKey(ctx, "tenant", &kms.CreateKeyRequest{Name: "key-a"}), kms.ErrKeyExists)
	wantErr(t, "CreateKey in unknown enclave", on(1).CreateKey(ctx, "nope", &kms.CreateKeyRequest{Name: "k"}), kms.ErrEnclaveNotFound)
	ks, err := on(2).KeyStatus(ctx, "tenant", &kms.KeyStatusRequest{Name: "key-a"})
	if err != nil || ks[0].Name != "key-a" || ks[0].Version != 1 || ks[0].Type != kms.AES256 || ks[0].CreatedBy != c.admin.Identity() {
		t.Fatalf("KeyStatus: %+v, %v", ks, err)
	}
	_, err = on(2).KeyStatus(ctx, "tenant", &kms.KeyStatusRequest{Name: "missing"})
	wantErr(t, "KeyStatus unknown", err, kms.ErrKeyNotFound)

	ad := []byte("bucket/object")
	enc, err := sdkwire.Encrypt(ctx, on(1), "tenant", &kms.EncryptRequest{Name: "key-a", Plaintext: []byte("secret"), AssociatedData: ad})
	if err != nil || enc.Version != 1 || len(enc.Ciphertext) == 0 {
		t.Fatalf("Encrypt: %+v, %v", enc, err)
	}
	for node := 1; node <= 3; node++ {
		dec, err := on(node).Decrypt(ctx, "tenant", &kms.DecryptRequest{Name: "key-a", Ciphertext: enc.Ciphertext, AssociatedData: ad})
		if err != nil || string(dec[0].Plaintext) != "secret" {
			t.Fatalf("Decrypt on node %d: %+v, %v", node, dec, err)
		}
	}
	_, err = on(2).Decrypt(ctx, "tenant", &kms.DecryptRequest{Name: "key-a", Ciphertext: enc.Ciphertext, AssociatedData: []byte("other")})
	wantErr(t, "Decrypt with other associated data", err, kms.ErrDecrypt)
	_, err = on(2).Decrypt(ctx, "tenant", &kms.DecryptRequest{Name: "key-b", Ciphertext: enc.Ciphertext, AssociatedData: ad})
	wantErr(t, "Decrypt with another key", err, kms.ErrDecrypt)
	_, err = sdkwire.Encrypt(ctx, on(1), "tenant", &kms.EncryptRequest{Name: "missing", Plaintext: []byte("x")})
	wantErr(t, "Encrypt unknown key", err, kms.ErrKeyNotFound)

	gen, err := on(3).GenerateKey(ctx, "tenant", &kms.GenerateKeyRequest{Name: "key-b", AssociatedData: ad})
	if err != nil || len(gen[0].Plaintext) != 32 || gen[0].Version != 1 {
		t.Fatalf("GenerateKey: %+v, %v", gen, err)
	}
	dec, err := on(1).Decrypt(ctx, "tenant", &kms.DecryptRequest{Name: "key-b", Ciphertext: gen[0].Ciphertext, AssociatedData: ad})
	if err != nil || !bytes.Equal(dec[0].Plaintext, gen[0].Plaintext) {
		t.Fatalf("Decrypt of a generated key: %v", err)
	}

	page, err := on(2).ListKeys(ctx, &kms.ListRequest{Enclave: "tenant", Prefix: "key-"})
	if err != nil || len(page.Items) != 2 || page.Items[0].Name != "key-a" || page.Items[1].Name != "key-b" || page.ContinueAt != "" {
		t.Fatalf("ListKeys: %+v, %v", page, err)
	}
	page, err = on(2).ListKeys(ctx, &kms.ListRequest{Enclave: "tenant", Limit: 1})
	if err != nil || len(page.Items) != 1 || page.ContinueAt != "key-b" {
		t.Fatalf("ListKeys limit 1: %+v, %v", page, err)
	}

	c.runs[2].cancel()
	c.runs[2].exitCode(t, 3*time.Second)
	eventually(t, 4*time.Second, "node 3 shown down", func() (bool, string) {
		s, err := c.status(t, 1)
		return err == nil && len(s.NodesDown) == 1, "still up"
	})
	err = on(1).CreateKey(ctx, "tenant", &kms.CreateKeyRequest{Name: "late"})
	var kerr kms.Error
	if !errors.As(err, &kerr) || kerr.Code != 503 || !strings.Contains(kerr.Err, "not every node is up") {
		t.Fatalf("CreateKey with a node down: %v", err)
	}
	if dec, err := on(2).Decrypt(ctx, "tenant", &kms.DecryptRequest{Name: "key-a", Ciphertext: enc.Ciphertext, AssociatedData: ad}); err != nil || string(dec[0].Plaintext) != "secret" {
		t.Fatalf("Decrypt with a node down: %v", err)
	}
}

func wantErr(t *testing.T, what string, err error, want kms.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// TestKeysSurviveTheMigration: a key created while the node runs on its
// local key decrypts after a restart on Vault alone (the REK survives, only
// its sealing changes), and a volume whose REK is gone cannot open its keys.
func TestKeysSurviveTheMigration(t *testing.T) {
	v := newFakeVault(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{newLocalKey(t), vaultBlock(v.URL, "transit")}})
	n := c.nodes[0]
	ctx := context.Background()
	r := n.run(t)
	c.wantHealthy(t, 1, 4*time.Second)
	sdk := c.client(t, c.admin, c.addrs[0])
	if err := sdk.CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: "e"}); err != nil {
		t.Fatal(err)
	}
	if err := sdk.CreateKey(ctx, "e", &kms.CreateKeyRequest{Name: "k", Type: kms.ChaCha20}); err != nil {
		t.Fatal(err)
	}
	enc, err := sdkwire.Encrypt(ctx, sdk, "e", &kms.EncryptRequest{Name: "k", Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	r.cancel()
	r.exitCode(t, 3*time.Second)
	delete(n.Env, LocalKeyEnv)
	r = n.run(t)
	c.wantHealthy(t, 1, 4*time.Second)
	dec, err := sdk.Decrypt(ctx, "e", &kms.DecryptRequest{Name: "k", Ciphertext: enc.Ciphertext})
	if err != nil || string(dec[0].Plaintext) != "before" {
		t.Fatalf("decrypt on Vault alone: %v", err)
	}
	if ks, err := sdk.KeyStatus(ctx, "e", &kms.KeyStatusRequest{Name: "k"}); err != nil || ks[0].Type != kms.ChaCha20 {
		t.Fatalf("KeyStatus: %v", err)
	}
	r.cancel()
	r.exitCode(t, 3*time.Second)
	n.Env[LocalKeyEnv] = newLocalKey(t)
	writeFile(t, n.Config, baseConfig(c.pki, c.admin.Identity().String()))
	if err := os.Remove(filepath.Join(n.Volume, rekFile)); err != nil {
		t.Fatal(err)
	}
	n.Log = &syncBuffer{}
	r = n.run(t)
	if code := r.exitCode(t, 3*time.Second); code != exitFailed || !strings.Contains(n.Log.String(), "does not decrypt with the root encryption key") {
		t.Fatalf("a new REK opened the old keys: exit %d\n%s", code, n.Log)
	}
}
