package standin

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/sdkwire"
	"github.com/minio/kms-go/kms"
)

// TestExistsMeansOnEveryNode: a key and an enclave that one node lost (a
// create whose leader died before it reached or took it back from every
// node leaves exactly this) are answered "exists" only after the leader
// brought that node to its copy: a client that retries a create and takes
// "exists" for "my earlier try landed" can then read the key on every node
// (the lost-key gap the e2e load saw with a restart racing a create).
func TestExistsMeansOnEveryNode(t *testing.T) {
	t.Parallel()
	key := newLocalKey(t)
	c := newTestCluster(t, RuleShared, []nodeSpec{{localKey: key}, {localKey: key}, {localKey: key}})
	c.start(t)
	s := c.wantHealthy(t, 1, 4*time.Second)
	leader := s.NodesUp[1].LeaderID
	lost := leader%3 + 1 // a follower: the node that lost the objects
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	on := func(node int) *kms.Client { return c.client(t, c.admin, c.addrs[node-1]) }
	for _, e := range []string{"e", "e2"} {
		if err := on(1).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := on(1).CreateKey(ctx, "e", &kms.CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	enc, err := sdkwire.Encrypt(ctx, on(1), "e", &kms.EncryptRequest{Name: "k", Plaintext: []byte("kept")})
	if err != nil {
		t.Fatal(err)
	}

	// Stop the leader (its memory of what reached every node goes with it)
	// and the follower, take k and e2 from the follower's database, and
	// bring both back: the leader is now one of the nodes that hold them.
	for _, n := range []int{leader, lost} {
		c.runs[n-1].cancel()
		c.runs[n-1].exitCode(t, 3*time.Second)
	}
	dropFromDB(t, c.nodes[lost-1].Volume, "e2", "e/k")
	c.runs[leader-1] = c.nodes[leader-1].run(t)
	c.wantHealthy(t, leader, 6*time.Second, lost)
	c.runs[lost-1] = c.nodes[lost-1].run(t)
	c.wantHealthy(t, lost, 6*time.Second)
	if _, err := on(lost).KeyStatus(ctx, "e", &kms.KeyStatusRequest{Name: "k"}); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Fatalf("the test did not take k from the follower: KeyStatus %v", err)
	}

	wantErr(t, "CreateKey of a key one node lacks", on(lost).CreateKey(ctx, "e", &kms.CreateKeyRequest{Name: "k"}), kms.ErrKeyExists)
	wantErr(t, "CreateEnclave of an enclave one node lacks", on(lost).CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: "e2"}), kms.ErrEnclaveExists)
	for node := 1; node <= 3; node++ {
		dec, err := on(node).Decrypt(ctx, "e", &kms.DecryptRequest{Name: "k", Ciphertext: enc.Ciphertext})
		if err != nil || string(dec[0].Plaintext) != "kept" {
			t.Fatalf("node %d after \"exists\": decrypt k: %v", node, err)
		}
		if _, err := on(node).EnclaveStatus(ctx, &kms.EnclaveStatusRequest{Name: "e2"}); err != nil {
			t.Fatalf("node %d after \"exists\": enclave e2: %v", node, err)
		}
	}
}

// dropFromDB removes enclaves and keys ("<enclave>/<key>") from a stopped
// node's key database.
func dropFromDB(t *testing.T, volume string, names ...string) {
	t.Helper()
	path := filepath.Join(volume, dbFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var db keyDB
	if err := json.Unmarshal(raw, &db); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		delete(db.Enclaves, n)
		delete(db.Keys, n)
	}
	raw, err = json.Marshal(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
