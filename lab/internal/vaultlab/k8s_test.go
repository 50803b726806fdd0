package vaultlab

import (
	"slices"
	"testing"
)

func (v *labVault) testKubernetesLogin(t *testing.T) {
	labJWT, err := readSecret(v.creds.K8sJWTFile)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := ParseServiceAccountJWT(labJWT)
	if err != nil {
		t.Fatal(err)
	}
	// The lab's account with a new key and uid: as if the account had
	// been deleted and re-created; the endpoint does not know the token.
	recreated, err := NewServiceAccount(K8sNamespace, K8sServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		jwt  string
		ok   bool
	}{
		{"lab token", labJWT, true},
		{"unknown token of the same account", mint(t, recreated), false},
		{"other account", mint(t, ServiceAccount{Namespace: K8sNamespace, Name: "other", UID: lab.UID}), false},
		{"other namespace", mint(t, ServiceAccount{Namespace: "default", Name: K8sServiceAccount, UID: lab.UID}), false},
		{"not a JWT", "not-a-jwt", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := v.client(t, "").Logical().Write("auth/"+K8sMount+"/login",
				map[string]any{"role": RoleMinkms, "jwt": tt.jwt})
			if tt.ok != (err == nil) {
				t.Fatalf("login succeeded = %v (err %v), want %v", err == nil, err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if !slices.Contains(sec.Auth.Policies, PolicyMinkms) {
				t.Errorf("policies %v lack %s", sec.Auth.Policies, PolicyMinkms)
			}
			if got := sec.Auth.Metadata["service_account_uid"]; got != lab.UID {
				t.Errorf("service_account_uid %q, want %q", got, lab.UID)
			}
			c := v.client(t, sec.Auth.ClientToken)
			if _, err := hmac(c, TransitMount, []byte("k8s")); err != nil {
				t.Errorf("hmac with the kubernetes token: %v", err)
			}
		})
	}
}

func mint(t *testing.T, sa ServiceAccount) string {
	t.Helper()
	jwt, err := MintServiceAccountJWT(sa)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}
