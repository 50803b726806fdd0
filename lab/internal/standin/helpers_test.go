package standin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPKI is a throw-away lab CA with one server certificate for 127.0.0.1.
type testPKI struct {
	CA, Cert, Key string // PEM files
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test lab CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kms-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	p := testPKI{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "public.crt"), Key: filepath.Join(dir, "private.key")}
	writeFile(t, p.CA, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	writeFile(t, p.Cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, p.Key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return p
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newLocalKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return "hsm:aes256:" + base64.StdEncoding.EncodeToString(k)
}

// freePorts returns n loopback addresses that were free a moment ago.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// syncBuffer is a log destination shared by a node's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testNode is the file system of one stand-in node in a temp dir.
type testNode struct {
	ID                       uint32
	Dir, Volume, Config, Lab string
	Host                     string
	Env                      map[string]string
	Log                      *syncBuffer
}

// labYAML renders lab.yaml for node id of the given addresses (1-based ids).
// It pins the legacy naming and the strict unseal: the stand-in's unit tests
// assert those names and that strictness; the tests of the other variants
// (names_test.go, unseal_policy_test.go) switch with setLab, and the e2e tests run
// the lab's defaults (standin.Defaults) and every variant.
func labYAML(id uint32, addrs []string, vaultBlock, rule string) string {
	var peers []string
	for i, a := range addrs {
		peers = append(peers, fmt.Sprintf("%d: %q", i+1, a))
	}
	return fmt.Sprintf("node_id: %d\npeers: {%s}\nvault_block: %s\ninternode_rule: %s\nversion: 2025-10-01T00-00-00Z\nhsm_names: %s\nunseal: %s\n",
		id, strings.Join(peers, ", "), vaultBlock, rule, NamesLegacy, UnsealAll)
}

// baseConfig is a valid config.yaml without an hsm block.
func baseConfig(p testPKI, admin string) string {
	return fmt.Sprintf("version: v1\n# admin identity\nadmin:\n  identity: %s\ntls:\n  certs:\n    - key: %s\n      cert: %s\n  ca: %s\n",
		admin, p.Key, p.Cert, p.CA)
}

func newTestNode(t *testing.T, id uint32, addrs []string, rule, config, localKey string) *testNode {
	t.Helper()
	dir := t.TempDir()
	n := &testNode{
		ID: id, Dir: dir, Volume: filepath.Join(dir, "volume"), Config: filepath.Join(dir, "config.yaml"),
		Lab: filepath.Join(dir, "lab", "lab.yaml"), Host: addrs[id-1],
		Env: map[string]string{LocalKeyEnv: localKey}, Log: &syncBuffer{},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node %d log:\n%s", id, n.Log)
		}
	})
	writeFile(t, n.Lab, labYAML(id, addrs, VaultBlockHashicorp, rule))
	writeFile(t, n.Config, config)
	return n
}

func (n *testNode) args() []string {
	return []string{"server", n.Volume, "--host", n.Host, "--config", n.Config}
}

func (n *testNode) getenv(k string) string {
	if k == SettingsEnv {
		return n.Lab
	}
	return n.Env[k]
}

func (n *testNode) fault(t *testing.T, name, content string) {
	writeFile(t, filepath.Join(filepath.Dir(n.Lab), "faults", name), content)
}

// running is a stand-in started in this process.
type running struct {
	cancel  context.CancelFunc
	signals chan os.Signal
	done    chan int
}

// run starts the node in a goroutine; the test's cleanup stops it.
func (n *testNode) run(t *testing.T) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, signals: make(chan os.Signal, 1), done: make(chan int, 1)}
	go func() {
		r.done <- Run(ctx, Options{Args: n.args(), Getenv: n.getenv, Stderr: n.Log, Signals: r.signals})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("node %d did not stop", n.ID)
		}
	})
	return r
}

// exitCode waits for a running node to end.
func (r *running) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // keep it for cleanup
		return code
	case <-time.After(within):
		t.Fatalf("node still running after %s", within)
		return -1
	}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last: %s)", what, timeout, last)
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// setLab sets one key of the node's lab.yaml (read at its next start).
func (n *testNode) setLab(t *testing.T, key, value string) {
	t.Helper()
	data, err := os.ReadFile(n.Lab)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if !strings.HasPrefix(line, key+":") {
			kept = append(kept, line)
		}
	}
	writeFile(t, n.Lab, strings.Join(append(kept, key+": "+value), "\n")+"\n")
}
