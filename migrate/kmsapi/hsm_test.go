package kmsapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"aead.dev/mtls"
)

// The exact bytes of the framed requests, built by hand from the public
// facts: uint16 command, uint32 length, protobuf (field 1 name, field 2 bool).
func TestHSMRequestFraming(t *testing.T) {
	name := "hsm:minio:soft"
	payload := append([]byte{0x0a, byte(len(name))}, name...)
	tests := []struct {
		label string
		cmd   Command
		msg   []byte
		want  []byte
	}{
		{"AddHSM", CmdAddHSM, EncodeAddHSMRequest(name, false), append([]byte{0, 5, 0, 0, 0, byte(len(payload))}, payload...)},
		{"AddHSM overwrite", CmdAddHSM, EncodeAddHSMRequest(name, true), append(append([]byte{0, 5, 0, 0, 0, byte(len(payload) + 2)}, payload...), 0x10, 0x01)},
		{"RemoveHSM", CmdRemoveHSM, EncodeRemoveHSMRequest(name), append([]byte{0, 6, 0, 0, 0, byte(len(payload))}, payload...)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := AppendFrame(nil, tt.cmd, tt.msg)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("frame = % x, %v; want % x", got, err, tt.want)
			}
			frames, err := DecodeFrames(got, tt.cmd)
			if err != nil || len(frames) != 1 {
				t.Fatalf("DecodeFrames: %v", err)
			}
			if n, err := decodeStringField(frames[0].Payload, fieldHSMName); err != nil || n != name {
				t.Fatalf("name field = %q, %v", n, err)
			}
		})
	}
}

// hsmNode answers AddHSM/RemoveHSM with a fixed status and message, and
// records the request it got.
type hsmNode struct {
	srv    *httptest.Server
	admin  string
	status int
	msg    string
	ct     string
	body   []byte // answer body on success
	got    []byte
}

func newHSMNode(t *testing.T, admin string) *hsmNode {
	t.Helper()
	n := &hsmNode{admin: admin, status: http.StatusOK, ct: contentTypeBinary}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(n.serve))
	n.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	n.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	n.srv.StartTLS()
	t.Cleanup(n.srv.Close)
	return n
}

func (n *hsmNode) serve(w http.ResponseWriter, r *http.Request) {
	n.got, _ = io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != pathKMS || r.Header.Get("Content-Type") != contentTypeBinary {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if id, err := mtls.PeerIdentity(r.TLS); err != nil || id.String() != n.admin {
		writeErr(w, http.StatusForbidden, "access denied: insufficient permissions")
		return
	}
	if n.status != http.StatusOK {
		if n.ct == contentTypeJSON {
			w.Header().Set("Content-Type", contentTypeJSON)
			w.WriteHeader(n.status)
			_, _ = io.WriteString(w, `{"message":"`+n.msg+`"}`)
			return
		}
		writeErr(w, n.status, n.msg)
		return
	}
	w.Header().Set("Content-Type", contentTypeBinary)
	_, _ = w.Write(n.body)
}

func (n *hsmNode) client(t *testing.T, key string) *Client {
	t.Helper()
	pool := n.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c, err := New(nil, n.srv.URL, Options{APIKey: key, RootCAs: pool, ServerName: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestHSMCommandsSucceed(t *testing.T) {
	key, id := newAPIKey(t)
	n := newHSMNode(t, id)
	c := n.client(t, key)
	ctx := context.Background()
	if err := c.RemoveHSM(ctx, "local"); err != nil {
		t.Fatalf("RemoveHSM: %v", err)
	}
	if want, _ := AppendFrame(nil, CmdRemoveHSM, EncodeRemoveHSMRequest("local")); !bytes.Equal(n.got, want) {
		t.Fatalf("request % x, want % x", n.got, want)
	}
	n.body, _ = AppendFrame(nil, CmdAddHSM, nil) // a node may answer with an empty frame
	if err := c.AddHSM(ctx, "local", true); err != nil {
		t.Fatalf("AddHSM: %v", err)
	}
	if want, _ := AppendFrame(nil, CmdAddHSM, EncodeAddHSMRequest("local", true)); !bytes.Equal(n.got, want) {
		t.Fatalf("request % x, want % x", n.got, want)
	}
	n.body, _ = AppendFrame(nil, CmdClusterStatus, nil) // a frame of another command is a protocol error
	if err := c.AddHSM(ctx, "local", false); !errors.Is(err, ErrFrame) {
		t.Fatalf("AddHSM with a foreign frame = %v, want ErrFrame", err)
	}
}

// The product's error answers (status + ErrResponse) become typed kinds,
// and the node's message stays in the error.
func TestHSMCommandErrors(t *testing.T) {
	tests := []struct {
		status int
		ct     string
		msg    string
		kind   error
	}{
		{http.StatusServiceUnavailable, contentTypeBinary, "cluster write refused: not every node is up", ErrHSMNotAllNodes},
		{http.StatusNotFound, contentTypeBinary, "no sealed root encryption key entry for HSM local", ErrHSMNoEntry},
		{http.StatusConflict, contentTypeJSON, "HSM local already has a sealed root encryption key entry", ErrHSMConflict},
		{http.StatusBadRequest, contentTypeBinary, "HSM x is not configured: AddHSM can only add HSMs that have been removed using RemoveHSM", ErrHSMNotConfigured},
		{http.StatusInternalServerError, contentTypeBinary, "boom", nil},
	}
	key, id := newAPIKey(t)
	n := newHSMNode(t, id)
	c := n.client(t, key)
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			n.status, n.ct, n.msg = tt.status, tt.ct, tt.msg
			err := c.RemoveHSM(context.Background(), "local")
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != tt.status || he.Message != tt.msg {
				t.Fatalf("RemoveHSM = %v, want HTTP %d %q", err, tt.status, tt.msg)
			}
			for _, k := range []error{ErrHSMNotAllNodes, ErrHSMNoEntry, ErrHSMConflict, ErrHSMNotConfigured} {
				if errors.Is(err, k) != (k == tt.kind) {
					t.Errorf("errors.Is(%v) = %v", k, !(k == tt.kind))
				}
			}
			if !strings.Contains(err.Error(), "RemoveHSM local") {
				t.Errorf("error does not name the command and HSM: %v", err)
			}
		})
	}
}

func TestHSMCommandsNeedKeyAndAdmin(t *testing.T) {
	key, _ := newAPIKey(t)
	_, other := newAPIKey(t)
	n := newHSMNode(t, other)
	if err := n.client(t, key).RemoveHSM(context.Background(), "local"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("RemoveHSM by a non-admin = %v, want ErrForbidden", err)
	}
	c, _ := New(nil, n.srv.URL, Options{})
	if err := c.AddHSM(context.Background(), "local", false); err == nil {
		t.Fatalf("AddHSM without a key = %v", err)
	}
	if err := n.client(t, key).RemoveHSM(context.Background(), ""); err == nil {
		t.Fatal("RemoveHSM without a name succeeded")
	}
}
