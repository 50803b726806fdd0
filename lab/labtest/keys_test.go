package labtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/sdkwire"
)

// sdk is a kms-go client of one node with env.sh's API key.
func (l *lab) sdk(node string) *kms.Client {
	c, err := labdir.NewKMSClient(l.dir, l.addr(node)+":7373", l.env["MINIO_KMS_API_KEY"])
	if err != nil {
		l.t.Fatal(err)
	}
	return c
}

// TestSDKKeyOperations is the lab's cross-check with the public SDK on real
// nodes: an enclave and a key created through one node, encrypt on one,
// decrypt and generate on every node, the SDK's errors for conflicts and
// unknown names, and a restarted node still decrypts what was encrypted
// before its restart.
func TestSDKKeyOperations(t *testing.T) {
	l := needLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var b [6]byte
	rand.Read(b[:])
	enclave := "labtest-" + hex.EncodeToString(b[:])
	first, last := l.state.Nodes[0].Name, l.last()
	eventually(t, 20*time.Second, "CreateEnclave (every node up)", func() bool {
		err := l.sdk(first).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: enclave})
		return err == nil || errors.Is(err, kms.ErrEnclaveExists) // a retry after a slow answer
	})
	if err := l.sdk(last).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: enclave}); !errors.Is(err, kms.ErrEnclaveExists) {
		t.Fatalf("CreateEnclave again: %v", err)
	}
	if err := l.sdk(last).CreateKey(ctx, enclave, &kms.CreateKeyRequest{Name: "minio-default"}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if err := l.sdk(first).CreateKey(ctx, enclave, &kms.CreateKeyRequest{Name: "minio-default"}); !errors.Is(err, kms.ErrKeyExists) {
		t.Fatalf("CreateKey again: %v", err)
	}
	ad := []byte("bucket/object")
	enc, err := sdkwire.Encrypt(ctx, l.sdk(first), enclave, &kms.EncryptRequest{Name: "minio-default", Plaintext: []byte("data key"), AssociatedData: ad})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	decryptEverywhere := func(when string) {
		for _, n := range l.state.Nodes {
			dec, err := l.sdk(n.Name).Decrypt(ctx, enclave, &kms.DecryptRequest{Name: "minio-default", Ciphertext: enc.Ciphertext, AssociatedData: ad})
			if err != nil || string(dec[0].Plaintext) != "data key" {
				t.Errorf("%s: Decrypt on %s: %v", when, n.Name, err)
			}
			gen, err := l.sdk(n.Name).GenerateKey(ctx, enclave, &kms.GenerateKeyRequest{Name: "minio-default"})
			if err != nil || len(gen[0].Plaintext) != 32 {
				t.Errorf("%s: GenerateKey on %s: %v", when, n.Name, err)
			}
		}
	}
	decryptEverywhere("after create")
	if _, err := l.sdk(last).KeyStatus(ctx, enclave, &kms.KeyStatusRequest{Name: "nope"}); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("KeyStatus unknown: %v", err)
	}
	if _, err := l.sdk(last).EnclaveStatus(ctx, &kms.EnclaveStatusRequest{Name: enclave + "-nope"}); !errors.Is(err, kms.ErrEnclaveNotFound) {
		t.Errorf("EnclaveStatus unknown: %v", err)
	}
	page, err := l.sdk(last).ListKeys(ctx, &kms.ListRequest{Enclave: enclave})
	if err != nil || len(page.Items) != 1 || page.Items[0].Name != "minio-default" {
		t.Errorf("ListKeys: %+v, %v", page, err)
	}
	l.restart(last)
	eventually(t, 30*time.Second, last+" ready", func() bool { return l.readyCode(last) == http.StatusOK })
	decryptEverywhere("after restarting " + last)
}
