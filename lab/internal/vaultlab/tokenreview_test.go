package vaultlab

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestTokenReviewHandler(t *testing.T) {
	lab, err := NewServiceAccount(K8sNamespace, K8sServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	labJWT := mint(t, lab)
	scoped := ServiceAccount{Namespace: "minio", Name: "scoped", UID: "u-2", Audiences: []string{"vault"}}
	scopedJWT := mint(t, scoped)
	accept := map[string]ServiceAccount{labJWT: lab, scopedJWT: scoped}
	unknown := mint(t, lab) // same account, other key: not issued by "the cluster"

	tests := []struct {
		name, method, path, bearer, body string
		code                             int
		authenticated                    bool
		username, uid                    string
	}{
		{"lab token reviews itself", "POST", TokenReviewPath, labJWT, reviewBody(labJWT), 201, true, lab.Username(), lab.UID},
		{"unknown token", "POST", TokenReviewPath, labJWT, reviewBody(unknown), 201, false, "", ""},
		{"unknown bearer", "POST", TokenReviewPath, unknown, reviewBody(labJWT), 401, false, "", ""},
		{"no bearer", "POST", TokenReviewPath, "", reviewBody(labJWT), 401, false, "", ""},
		{"GET", "GET", TokenReviewPath, labJWT, "", 405, false, "", ""},
		{"other path", "POST", "/api/v1/namespaces", labJWT, reviewBody(labJWT), 404, false, "", ""},
		{"bad body", "POST", TokenReviewPath, labJWT, "{", 400, false, "", ""},
		{"legacy token, audience vault", "POST", TokenReviewPath, labJWT, reviewBody(labJWT, "vault"), 201, false, "", ""},
		{"scoped token, audience vault", "POST", TokenReviewPath, labJWT, reviewBody(scopedJWT, "vault"), 201, true, scoped.Username(), "u-2"},
		{"scoped token, API audience", "POST", TokenReviewPath, labJWT, reviewBody(scopedJWT), 201, false, "", ""},
	}
	h := NewTokenReviewHandler(accept)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("code %d, want %d (%s)", rec.Code, tt.code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), labJWT) {
				t.Error("answer echoes the token")
			}
			if tt.code != 201 {
				checkStatusBody(t, rec.Body.Bytes(), tt.code)
				return
			}
			checkReview(t, rec.Body.Bytes(), tt.authenticated, tt.username, tt.uid)
		})
	}
}

func reviewBody(token string, aud ...string) string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
		"spec": map[string]any{"token": token, "audiences": aud},
	})
	return string(b)
}

// checkStatusBody checks a failure is a metav1.Status, which Vault's
// kubernetes auth turns into a Kubernetes error.
func checkStatusBody(t *testing.T, body []byte, code int) {
	t.Helper()
	var st struct {
		Kind, Status string
		Code         int
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Kind != "Status" || st.Status != "Failure" || st.Code != code {
		t.Errorf("failure body %s (%v)", body, err)
	}
}

func checkReview(t *testing.T, body []byte, authenticated bool, username, uid string) {
	t.Helper()
	var tr tokenReview
	if err := json.Unmarshal(body, &tr); err != nil || tr.Status == nil {
		t.Fatalf("review body %s (%v)", body, err)
	}
	st := tr.Status
	if tr.Kind != "TokenReview" || tr.APIVersion != "authentication.k8s.io/v1" {
		t.Errorf("kind %q apiVersion %q", tr.Kind, tr.APIVersion)
	}
	if st.Authenticated != authenticated || st.User.Username != username || st.User.UID != uid {
		t.Errorf("status %+v, want authenticated=%v user %q uid %q", st, authenticated, username, uid)
	}
	if authenticated && !slices.Contains(st.User.Groups, "system:serviceaccounts:minio") {
		t.Errorf("groups %v lack the namespace group", st.User.Groups)
	}
	if !authenticated && st.Error == "" {
		t.Error("an unauthenticated review carries no error")
	}
}

func TestServeTokenReviewBadKeyPair(t *testing.T) {
	err := ServeTokenReview(t.Context(), "127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem", nil)
	if err == nil || !strings.Contains(err.Error(), "key pair") {
		t.Errorf("err %v, want a key pair error", err)
	}
}

func TestServeTokenReviewStopsWithContext(t *testing.T) {
	pki := newTestPKI(t, t.TempDir())
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- ServeTokenReview(ctx, freeAddr(t), pki.certFile, pki.keyFile, nil) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeTokenReview after cancel: %v", err)
	}
}

var _ http.Handler = NewTokenReviewHandler(nil)
