package kmsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"aead.dev/mtls"
)

// fakeNode is a TLS key manager answering like the real API: framed
// protobuf on /v1/kms/, error bodies as ErrResponse.
type fakeNode struct {
	srv      *httptest.Server
	admin    string // identity allowed to run ClusterStatus
	ready    bool
	versionT string // content type for /version
	dials    atomic.Int32
}

func newFakeNode(t *testing.T, admin string) *fakeNode {
	t.Helper()
	n := &fakeNode{admin: admin, ready: true, versionT: contentTypeJSON}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(n.serve))
	n.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	n.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	n.srv.StartTLS()
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == pathVersion:
		n.writeVersion(w)
	case r.Method == http.MethodGet && r.URL.Path == pathLive:
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && r.URL.Path == pathReady && n.ready:
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && r.URL.Path == pathReady:
		writeErr(w, http.StatusServiceUnavailable, "not ready: no quorum")
	case r.Method == http.MethodPost && r.URL.Path == pathKMS:
		n.serveKMS(w, r)
	default:
		http.Error(w, "no such route", http.StatusNotFound)
	}
}

func (n *fakeNode) writeVersion(w http.ResponseWriter) {
	w.Header().Set("Content-Type", n.versionT)
	if n.versionT == contentTypeBinary {
		_, _ = w.Write(tagBytes(nil, 1, []byte("2025-10-01T00-00-00Z")))
		return
	}
	_, _ = io.WriteString(w, `{"version":"2025-10-01T00-00-00Z","commit":"abc","api_version":"v1"}`)
}

func (n *fakeNode) serveKMS(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Type") != contentTypeBinary || !bytes.Equal(body, []byte{0, 3, 0, 0, 0, 0}) {
		writeErr(w, http.StatusBadRequest, "bad request framing")
		return
	}
	if id, err := mtls.PeerIdentity(r.TLS); err != nil || id.String() != n.admin {
		writeErr(w, http.StatusForbidden, "access denied: insufficient permissions")
		return
	}
	payload, _ := wantClusterStatus().MarshalBinary()
	resp, _ := AppendFrame(nil, CmdClusterStatus, payload)
	w.Header().Set("Content-Type", contentTypeBinary)
	_, _ = w.Write(resp)
}

// writeErr answers with an ErrResponse protobuf body, as the server does.
func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", contentTypeBinary)
	w.WriteHeader(status)
	_, _ = w.Write(tagBytes(nil, fieldErrMessage, []byte(msg)))
}

func (n *fakeNode) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.dials.Add(1)
	if addr != n.srv.Listener.Addr().String() {
		return nil, errors.New("dialed unexpected address " + addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (n *fakeNode) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(n.srv.Certificate())
	return p
}

func newAPIKey(t *testing.T) (key, identity string) {
	t.Helper()
	k, err := mtls.GenerateKeyEdDSA(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.String(), k.Identity().String()
}

func TestClientAgainstFakeNode(t *testing.T) {
	key, id := newAPIKey(t)
	n := newFakeNode(t, id)
	c, err := New(n.dial, n.srv.URL, Options{APIKey: key, RootCAs: n.roots(), ServerName: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	for _, ct := range []string{contentTypeJSON, contentTypeBinary} {
		n.versionT = ct
		if v, err := c.Version(ctx); err != nil || v != "2025-10-01T00-00-00Z" {
			t.Fatalf("Version (%s) = %q, %v", ct, v, err)
		}
	}
	if err := c.Live(ctx); err != nil {
		t.Fatalf("Live: %v", err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	got, err := c.ClusterStatus(ctx)
	if err != nil {
		t.Fatalf("ClusterStatus: %v", err)
	}
	if want := wantClusterStatus(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ClusterStatus = %+v, want %+v", got, want)
	}
	if n.dials.Load() == 0 {
		t.Fatal("the dial function was never used")
	}
}

func TestReadyNotReadyIsTyped(t *testing.T) {
	key, id := newAPIKey(t)
	n := newFakeNode(t, id)
	n.ready = false
	c, err := New(nil, n.srv.URL, Options{APIKey: key, RootCAs: n.roots(), ServerName: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ready(context.Background())
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || he.Message != "not ready: no quorum" {
		t.Fatalf("Ready = %v, want *HTTPError 503 with the server's message", err)
	}
}

func TestClusterStatusForbiddenForOtherIdentity(t *testing.T) {
	key, _ := newAPIKey(t)
	_, otherID := newAPIKey(t)
	n := newFakeNode(t, otherID)
	c, _ := New(nil, n.srv.URL, Options{APIKey: key, RootCAs: n.roots(), ServerName: "example.com"})
	_, err := c.ClusterStatus(context.Background())
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden || !strings.Contains(he.Message, "insufficient permissions") {
		t.Fatalf("ClusterStatus = %v, want 403", err)
	}
}

func TestClientVerifiesServerCertificate(t *testing.T) {
	key, id := newAPIKey(t)
	n := newFakeNode(t, id)
	c, _ := New(nil, n.srv.URL, Options{APIKey: key, RootCAs: x509.NewCertPool()})
	var uerr x509.UnknownAuthorityError
	if err := c.Live(context.Background()); !errors.As(err, &uerr) {
		t.Fatalf("Live with empty root pool = %v, want unknown authority", err)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct{ name, url, key string }{
		{"empty url", "", ""},
		{"plain http", "http://127.0.0.1:7373", ""},
		{"bad api key", "https://127.0.0.1:7373", "k1:not-a-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(nil, tt.url, Options{APIKey: tt.key})
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Fatalf("error leaks the API key: %v", err)
			}
		})
	}
	c, err := New(nil, "127.0.0.1:7373", Options{})
	if err != nil || c.URL() != "https://127.0.0.1:7373" {
		t.Fatalf("bare host:port: %v, %v", c, err)
	}
	if _, err := c.ClusterStatus(context.Background()); err == nil {
		t.Fatal("ClusterStatus without API key succeeded")
	}
}

func TestHTTPErrorBodies(t *testing.T) {
	tests := []struct {
		name, ct string
		body     []byte
		want     string
	}{
		{"protobuf", contentTypeBinary, tagBytes(nil, 1, []byte("key does not exist")), "key does not exist"},
		{"json", contentTypeJSON, []byte(`{"message":"access denied"}`), "access denied"},
		{"text", "text/plain", []byte("plain failure\n"), "plain failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", tt.ct)
			rec.WriteHeader(http.StatusNotFound)
			_, _ = rec.Write(tt.body)
			e := readHTTPError(rec.Result(), "GET /x")
			if e.Status != http.StatusNotFound || e.Message != tt.want {
				t.Fatalf("got %+v, want message %q", e, tt.want)
			}
			if want := "GET /x: 404 Not Found: " + tt.want; e.Error() != want {
				t.Fatalf("Error() = %q, want %q", e.Error(), want)
			}
		})
	}
}

func TestAPIKeyIdentity(t *testing.T) {
	key, id := newAPIKey(t)
	got, err := APIKeyIdentity(key)
	if err != nil || got != id || !strings.HasPrefix(got, "h1:") {
		t.Fatalf("APIKeyIdentity = %q, %v; want %q", got, err, id)
	}
	cert, err := clientCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf.Subject.CommonName != id || mtls.CertificateIdentity(cert.Leaf).String() != id {
		t.Fatalf("certificate CN %q / identity %q, want %q", cert.Leaf.Subject.CommonName, mtls.CertificateIdentity(cert.Leaf), id)
	}
}
