package configedit

import (
	"errors"
	"strings"
	"testing"
)

// configRefusals are files Apply must refuse, with the kind it must
// give. Each one is a shape a line splice could get wrong.
var configRefusals = []struct {
	name, input string
	kind        ErrorKind
	line        int
}{
	{"two documents", "version: v1\n---\nversion: v1\n", KindMultipleDocuments, 2},
	{"trailing empty document", "version: v1\n---\n", KindMultipleDocuments, 0},
	{"both spellings", "version: v1\nhsm:\n  vault:\n    server: a\n  hashicorp:\n    vault:\n      server: b\n", KindBothSpellings, 6},
	{"hsm flow style", "version: v1\nhsm: {minio: {minkms: {key: k}}}\n", KindFlowStyle, 2},
	{"hashicorp flow style", "version: v1\nhsm:\n  hashicorp: {vault: {server: a}}\n", KindFlowStyle, 3},
	{"document flow style", "{version: v1, hsm: {}}\n", KindFlowStyle, 1},
	{"hsm alias", "version: v1\nx: &h\n  minio: {}\nhsm: *h\n", KindAlias, 4},
	{"hsm anchor", "version: v1\nhsm: &h\n  minio:\n    key: k\n", KindAlias, 2},
	{"merge into hsm", "version: v1\nbase: &b\n  minio:\n    key: k\nhsm:\n  <<: *b\n", KindAlias, 5},
	{"merge at top without hsm", "base: &b\n  hsm:\n    minio:\n      key: k\nother:\n  <<: *b\n<<: *b\n", KindAlias, 1},
	{"alias inside vault block", "version: v1\nk: &k minkms\nhsm:\n  vault:\n    server: a\n    transit:\n      key: *k\n", KindAlias, 4},
	{"hsm is a list", "version: v1\nhsm:\n  - vault\n", KindNotMapping, 2},
	{"hsm is null word", "version: v1\nhsm: ~\n", KindNotMapping, 2},
	{"hashicorp is a string", "version: v1\nhsm:\n  hashicorp: vault\n", KindNotMapping, 3},
	{"document is a list", "- version: v1\n", KindNotMapping, 1},
	{"empty file", "", KindNotMapping, 0},
	{"comments only", "# nothing yet\n", KindNotMapping, 0},
	{"duplicate hsm", "version: v1\nhsm:\n  minio: {}\nhsm:\n  pkcs11: {}\n", KindDuplicateKey, 4},
	{"duplicate vault", "version: v1\nhsm:\n  vault:\n    server: a\n  vault:\n    server: b\n", KindDuplicateKey, 5},
	{"tab in hsm", "version: v1\nhsm:\n  minio: {a: 1,\n\tb: 2}\n", KindTabs, 4},
	{"syntax error", "version: v1\nhsm:\n  vault: [\n", KindSyntax, 0},
	{"not utf-8", "version: v1\n# caf\xe9\n", KindUnsupported, 0},
	{"byte order mark", "\xEF\xBB\xBFversion: v1\n", KindUnsupported, 1},
	{"lone carriage return", "version: v1\rhsm:\n", KindUnsupported, 0},
	{"complex key hsm", "version: v1\n? hsm\n: minio:\n    key: k\n", KindUnsupported, 2},
}

func TestEditConfigRefuses(t *testing.T) {
	want := goldenSettings()["approle"]
	for _, c := range configRefusals {
		t.Run(c.name, func(t *testing.T) {
			_, err := Apply([]byte(c.input), want, BlockHashicorpVault)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *Error", err)
			}
			if ce.Kind != c.kind || (c.line != 0 && ce.Line != c.line) {
				t.Fatalf("got kind %s line %d (%v), want %s line %d", ce.Kind, ce.Line, err, c.kind, c.line)
			}
			if !errors.Is(err, &Error{Kind: c.kind}) {
				t.Fatalf("errors.Is does not match kind %s", c.kind)
			}
			if strings.Contains(err.Error(), testSecretID) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestEditConfigInvalidSettings(t *testing.T) {
	good := goldenSettings()["approle"]
	cases := map[string]func(s *VaultSettings){
		"no server":        func(s *VaultSettings) { s.Server = "" },
		"no auth":          func(s *VaultSettings) { s.AppRole = nil },
		"both auths":       func(s *VaultSettings) { s.Kubernetes = &Kubernetes{Role: "r", JWT: "/t"} },
		"no secret":        func(s *VaultSettings) { s.AppRole = &AppRole{ID: testRoleID} },
		"no transit key":   func(s *VaultSettings) { s.Transit.Key = "" },
		"secret not utf-8": func(s *VaultSettings) { s.AppRole = &AppRole{ID: testRoleID, Secret: testSecretID + "\xff"} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			s := good
			mutate(&s)
			_, err := Apply([]byte("version: v1\n"), s, BlockHashicorpVault)
			if !errors.Is(err, &Error{Kind: KindInvalidSettings}) {
				t.Fatalf("got %v, want invalid-settings", err)
			}
			if strings.Contains(err.Error(), testSecretID) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
	if _, err := Apply([]byte("version: v1\n"), good, BlockPath(7)); !errors.Is(err, &Error{Kind: KindInvalidSettings}) {
		t.Fatalf("unknown spelling: got %v", err)
	}
}
