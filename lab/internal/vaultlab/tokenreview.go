package vaultlab

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// TokenReviewPath is the Kubernetes API path Vault's kubernetes auth posts
// TokenReview requests to.
const TokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews"

// apiServerAudiences are the audiences a real API server assigns to legacy
// tokens and assumes when a review names none.
var apiServerAudiences = []string{"https://kubernetes.default.svc.cluster.local"}

// tokenReview is the part of authentication.k8s.io/v1 TokenReview the
// endpoint reads and writes.
type tokenReview struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   map[string]any `json:"metadata"`
	Spec       reviewSpec     `json:"spec"`
	Status     *reviewStatus  `json:"status,omitempty"`
}

type reviewSpec struct {
	Token     string   `json:"token,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

type reviewStatus struct {
	Authenticated bool       `json:"authenticated,omitempty"`
	User          reviewUser `json:"user"`
	Audiences     []string   `json:"audiences,omitempty"`
	Error         string     `json:"error,omitempty"`
}

type reviewUser struct {
	Username string   `json:"username,omitempty"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// NewTokenReviewHandler answers TokenReview requests like a Kubernetes API
// server that knows exactly the tokens in accept: the caller must present
// one of them as its bearer token (else 401, as the API server rejects an
// unauthenticated client), and the reviewed token is authenticated only if
// it is one of them and valid for the requested audiences.
func NewTokenReviewHandler(accept map[string]ServiceAccount) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TokenReviewPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
			return
		}
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, known := lookupToken(accept, bearer); !ok || !known {
			writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		var req tokenReview
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", "cannot decode TokenReview")
			return
		}
		writeJSON(w, http.StatusCreated, review(accept, req.Spec))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
	})
	return mux
}

// review computes the answer for one TokenReview spec. The token is not
// echoed back, unlike the API server, to keep it out of any capture.
func review(accept map[string]ServiceAccount, spec reviewSpec) tokenReview {
	out := tokenReview{
		Kind: "TokenReview", APIVersion: "authentication.k8s.io/v1",
		Metadata: map[string]any{"creationTimestamp": nil},
		Spec:     reviewSpec{Audiences: spec.Audiences},
		Status:   &reviewStatus{},
	}
	sa, ok := lookupToken(accept, spec.Token)
	if !ok {
		out.Status.Error = "[invalid bearer token, token lookup failed]"
		return out
	}
	tokenAud := sa.Audiences
	if len(tokenAud) == 0 {
		tokenAud = apiServerAudiences
	}
	wantAud := spec.Audiences
	if len(wantAud) == 0 {
		wantAud = apiServerAudiences
	}
	var both []string
	for _, a := range wantAud {
		if slices.Contains(tokenAud, a) {
			both = append(both, a)
		}
	}
	if len(both) == 0 {
		out.Status.Error = fmt.Sprintf("[invalid bearer token, token audiences %q is invalid for the target audiences %q]", tokenAud, wantAud)
		return out
	}
	out.Status.Authenticated = true
	out.Status.Audiences = both
	out.Status.User = reviewUser{
		Username: sa.Username(), UID: sa.UID,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.Namespace, "system:authenticated"},
	}
	return out
}

// lookupToken finds token in accept, comparing in constant time.
func lookupToken(accept map[string]ServiceAccount, token string) (ServiceAccount, bool) {
	var found ServiceAccount
	ok := false
	for t, sa := range accept {
		if token != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			found, ok = sa, true
		}
	}
	return found, ok
}

// writeStatus answers with a Kubernetes metav1.Status failure, the body
// Vault's kubernetes auth decodes for non-2xx answers.
func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeTokenReview serves NewTokenReviewHandler(accept) over TLS on addr
// until ctx ends (then it returns nil): the lab's stand-in for the
// Kubernetes API server that Vault's kubernetes auth mount calls.
// `lab k8s-endpoint` runs it with LoadTokenReviewAccept(DIR/secrets/k8s-jwt).
func ServeTokenReview(ctx context.Context, addr, certFile, keyFile string, accept map[string]ServiceAccount) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("vaultlab: token review TLS key pair: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("vaultlab: token review listen: %w", err)
	}
	srv := &http.Server{
		Handler:           NewTokenReviewHandler(accept),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("vaultlab: token review serve: %w", err)
	}
	return nil
}
