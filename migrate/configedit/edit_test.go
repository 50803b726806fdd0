package configedit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEditConfigUnchangedKeepsBytes(t *testing.T) {
	want := goldenSettings()["approle"]
	in := []byte("hsm:\n  hashicorp:\n    vault: {server: \"https://vault.example.net:8200\", approle: {id: " + testRoleID +
		", secret: " + testSecretID + ", path: approle}, transit: {key: minkms-sealing-key, path: transit}}\n")
	res, err := Apply(in, want, BlockVault)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || !bytes.Equal(res.Output, in) || res.Path != BlockHashicorpVault || res.Existing == nil || len(res.Warnings) > 0 {
		t.Fatalf("got changed=%v path=%s warnings=%q", res.Changed, res.Path, res.Warnings)
	}
	res.Output[0] = 'X'
	if in[0] != 'h' {
		t.Fatal("Output aliases the input")
	}
}

func TestEditConfigExistingAndWarnings(t *testing.T) {
	want := goldenSettings()["approle"]
	in := "hsm:\n  vault: # old\n    server: https://old:8200\n    approle:\n      id: a\n      secret: 00000000-OLD-SECRET\n    transit:\n      key: k\n"
	res, err := Apply([]byte(in), want, BlockHashicorpVault)
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != BlockVault || res.Existing == nil || res.Existing.Server != "https://old:8200" || res.Existing.AppRole.Secret != "00000000-OLD-SECRET" {
		t.Fatalf("existing not reported: %+v", res.Existing)
	}
	joined := strings.Join(res.Warnings, "\n")
	for _, w := range []string{"differs from the wanted settings", "comments inside the existing Vault block"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings %q lack %q", joined, w)
		}
	}
	if strings.Contains(joined, "SECRET") || strings.Contains(joined, "https://old") {
		t.Errorf("warnings carry values: %q", joined)
	}
}

func TestEditConfigShapes(t *testing.T) {
	want := goldenSettings()["approle"]
	cases := []struct {
		name, in string
		prefer   BlockPath
		want     string
	}{
		{"hsm indent wins over file indent", "a:\n    b: 1\nhsm:\n  pkcs11:\n    path: /x\n", BlockVault,
			"a:\n    b: 1\nhsm:\n  pkcs11:\n    path: /x\n  vault:\n    server: https://vault.example.net:8200\n    approle:\n      id: " + testRoleID + "\n      secret: " + testSecretID + "\n      path: approle\n    transit:\n      key: minkms-sealing-key\n      path: transit\n"},
		{"flow vault block is replaced", "hsm:\n  vault: {server: a}\n", BlockHashicorpVault,
			"hsm:\n  vault:\n    server: https://vault.example.net:8200\n    approle:\n      id: " + testRoleID + "\n      secret: " + testSecretID + "\n      path: approle\n    transit:\n      key: minkms-sealing-key\n      path: transit\n"},
		{"empty vault block is filled", "hsm:\n   vault:\nx: 1\n", BlockHashicorpVault,
			"hsm:\n   vault:\n      server: https://vault.example.net:8200\n      approle:\n         id: " + testRoleID + "\n         secret: " + testSecretID + "\n         path: approle\n      transit:\n         key: minkms-sealing-key\n         path: transit\nx: 1\n"},
		{"multi-line scalar in old block", "hsm:\n  vault:\n    server: |\n      https://a\n    note: >\n      folded\n\n      text\n# after\n", BlockHashicorpVault,
			"hsm:\n  vault:\n    server: https://vault.example.net:8200\n    approle:\n      id: " + testRoleID + "\n      secret: " + testSecretID + "\n      path: approle\n    transit:\n      key: minkms-sealing-key\n      path: transit\n# after\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Apply([]byte(c.in), want, c.prefer)
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != c.want {
				t.Fatalf("got:\n%s\nwant:\n%s", res.Output, c.want)
			}
		})
	}
}

func TestEditConfigQuotesAndOrder(t *testing.T) {
	want := VaultSettings{
		Server:  "https://vault.example.net:8200",
		AppRole: &AppRole{ID: "yes", Secret: "#not-a-comment", Namespace: "a: b", Path: "approle"},
		Transit: Transit{Key: "1234", Namespace: "ns", Path: "transit"},
		TLS:     &VaultTLS{CA: "/etc/ca.pem", Cert: "/etc/c.pem", Key: "/etc/k.pem"},
	}
	res, err := Apply([]byte("version: v1\n"), want, BlockVault)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := `version: v1
hsm:
  vault:
    server: https://vault.example.net:8200
    approle:
      id: "yes"
      secret: "#not-a-comment"
      namespace: "a: b"
      path: approle
    transit:
      key: "1234"
      namespace: ns
      path: transit
    tls:
      ca: /etc/ca.pem
      cert: /etc/c.pem
      key: /etc/k.pem
`
	if string(res.Output) != wantOut {
		t.Fatalf("got:\n%s", res.Output)
	}
}

// TestEditConfigRefusesWhatItCannotProve covers the self-check: a quoted
// string that continues at column 0 hides the end of the last entry, so a
// splice would land inside the string; the edit must be refused.
func TestEditConfigRefusesWhatItCannotProve(t *testing.T) {
	_, err := Apply([]byte("version: v1\nnote: \"first\nsecond\"\n"), goldenSettings()["approle"], BlockHashicorpVault)
	if !errors.Is(err, &Error{Kind: KindUnsafe}) {
		t.Fatalf("got %v, want unsafe-edit", err)
	}
}

func TestParseBlockPath(t *testing.T) {
	for _, p := range []BlockPath{BlockHashicorpVault, BlockVault, BlockOpenBao} {
		got, err := ParseBlockPath(p.String())
		if err != nil || got != p {
			t.Errorf("ParseBlockPath(%s) = %v, %v", p, got, err)
		}
	}
	if _, err := ParseBlockPath("hsm.hashicorp"); err == nil {
		t.Error("hsm.hashicorp: want an error")
	}
}

// TestMountPathDefaults: a block that names no mount is read with the key
// manager's defaults, and a named one keeps its name without slashes; the
// Vault check reads mounts only through these.
func TestMountPathDefaults(t *testing.T) {
	var none VaultSettings
	none.AppRole, none.Kubernetes = &AppRole{}, &Kubernetes{}
	if none.AppRole.MountPath() != "approle" || none.Kubernetes.MountPath() != "kubernetes" || none.Transit.MountPath() != "transit" {
		t.Errorf("defaults: %q %q %q", none.AppRole.MountPath(), none.Kubernetes.MountPath(), none.Transit.MountPath())
	}
	named := Transit{Path: "/kms-transit/"}
	if named.MountPath() != "kms-transit" {
		t.Errorf("named mount: %q, want kms-transit", named.MountPath())
	}
}
