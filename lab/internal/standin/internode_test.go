package standin

import (
	"errors"
	"testing"
)

func TestInterNodeRules(t *testing.T) {
	local := InterNodeKey{HSM: "local", Key: []byte("local-key")}
	otherLocal := InterNodeKey{HSM: "local", Key: []byte("other-local-key")}
	vault := InterNodeKey{HSM: "vault:transit/k", Key: []byte("vault-key")}
	tests := []struct {
		name           string
		rule           string
		sender, receiv []InterNodeKey
		accept         bool
	}{
		{"shared: same keys", RuleShared, []InterNodeKey{local, vault}, []InterNodeKey{local, vault}, true},
		{"shared: local removed on sender", RuleShared, []InterNodeKey{vault}, []InterNodeKey{local, vault}, true},
		{"shared: local removed on receiver", RuleShared, []InterNodeKey{local, vault}, []InterNodeKey{vault}, true},
		{"shared: nothing in common", RuleShared, []InterNodeKey{local}, []InterNodeKey{vault}, false},
		{"shared: different local keys", RuleShared, []InterNodeKey{otherLocal}, []InterNodeKey{local}, false},
		{"primary: same keys", RulePrimary, []InterNodeKey{local, vault}, []InterNodeKey{local, vault}, true},
		{"primary: local removed on sender", RulePrimary, []InterNodeKey{vault}, []InterNodeKey{local, vault}, false},
		{"primary: local removed on receiver", RulePrimary, []InterNodeKey{local, vault}, []InterNodeKey{vault}, false},
		{"primary: both vault only", RulePrimary, []InterNodeKey{vault}, []InterNodeKey{vault}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &peerAuth{rule: tt.rule, keys: tt.sender}
			r := &peerAuth{rule: tt.rule, keys: tt.receiv}
			body, err := s.seal(peerMsg{From: 7, Term: 3})
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.open(body)
			if tt.accept && (err != nil || m.From != 7 || m.Term != 3) {
				t.Fatalf("rejected: %+v, %v", m, err)
			}
			if !tt.accept && !errors.Is(err, errKeyMismatch) {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}

func TestInterNodeTagCoversMessage(t *testing.T) {
	a := &peerAuth{rule: RuleShared, keys: []InterNodeKey{{HSM: "local", Key: []byte("k")}}}
	body, _ := a.seal(peerMsg{From: 1, Term: 2})
	tampered := []byte(string(body))
	for i := range tampered {
		if tampered[i] == '2' { // the term
			tampered[i] = '9'
			break
		}
	}
	if _, err := a.open(tampered); !errors.Is(err, errKeyMismatch) {
		t.Fatalf("tampered message accepted: %v", err)
	}
}
