package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

func TestSpecNames(t *testing.T) {
	cases := []struct {
		i                                int
		name, addr, netns, veth, apiAddr string
	}{
		{1, "kms-1", "10.213.0.11", "kmslab-kms-1", "kmslab-v1", "10.213.0.11:7373"},
		{10, "kms-10", "10.213.0.20", "kmslab-kms-10", "kmslab-v10", "10.213.0.20:7373"},
	}
	for _, c := range cases {
		s := Spec{Index: c.i}
		got := []string{s.Name(), s.Address(), s.Netns(), s.Veth(), s.APIAddr()}
		want := []string{c.name, c.addr, c.netns, c.veth, c.apiAddr}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("node %d: got %v, want %v", c.i, got, want)
		}
	}
	if len(Specs(3)) != 3 || Specs(3)[2].Index != 3 {
		t.Errorf("Specs(3) = %v", Specs(3))
	}
}

// TestLabYAMLAcceptedByStandIn cross-checks the lab.yaml that up writes (and
// that faults edit) with the stand-in's strict parser.
func TestLabYAMLAcceptedByStandIn(t *testing.T) {
	base := LabYAML(Spec{Index: 2}, 3, VaultBlockDefault, "shared", standin.Defaults)
	cases := []struct {
		key, value string
		check      func(*standin.Settings) bool
	}{
		{"internode_rule", "primary", func(s *standin.Settings) bool { return s.InternodeRule == "primary" }},
		{"vault_block", "hsm.vault", func(s *standin.Settings) bool { return s.VaultBlock == "hsm.vault" }},
		{"vault_block", VaultBlockDefault, func(s *standin.Settings) bool { return s.VaultBlock == VaultBlockDefault }},
		{"hsm_names", "product", func(s *standin.Settings) bool { return s.HSMNames == standin.NamesProduct }},
		{"hsm_names", "legacy", func(s *standin.Settings) bool { return s.HSMNames == standin.NamesLegacy }},
		{"unseal", "any", func(s *standin.Settings) bool { return s.Unseal == standin.UnsealAny }},
		{"restart_recreates_removed", "true", func(s *standin.Settings) bool { return s.RestartRecreatesRemoved }},
	}
	for _, c := range cases {
		edited, err := replaceSetting(base, c.key, c.value)
		if err != nil {
			t.Fatal(err)
		}
		s, err := standin.ParseSettings(edited)
		if err != nil {
			t.Fatalf("%s=%s: stand-in rejects lab.yaml: %v\n%s", c.key, c.value, err, edited)
		}
		if s.NodeID != 2 || len(s.Peers) != 3 || s.Peers[3] != "10.213.0.13:7373" || !c.check(s) {
			t.Errorf("%s=%s: parsed %+v", c.key, c.value, s)
		}
	}
	if _, err := replaceSetting(base, "missing_key", "x"); err == nil {
		t.Error("replaceSetting of an absent key succeeded")
	}
}

// TestLabYAMLCarriesVariant: lab up's variant reaches the stand-in.
func TestLabYAMLCarriesVariant(t *testing.T) {
	v := standin.Variant{HSMNames: standin.NamesProduct, Unseal: standin.UnsealAny, AdminIdentity: standin.AdminDerived, RestartRecreatesRemoved: true}
	s, err := standin.ParseSettings(LabYAML(Spec{Index: 1}, 3, VaultBlockDefault, "shared", v))
	if err != nil {
		t.Fatal(err)
	}
	if s.HSMNames != v.HSMNames || s.Unseal != v.Unseal || !s.RestartRecreatesRemoved {
		t.Errorf("parsed %+v from variant %+v", s, v)
	}
	d, err := standin.ParseSettings(LabYAML(Spec{Index: 1}, 3, VaultBlockDefault, "shared", standin.Defaults))
	if err != nil || d.HSMNames != standin.Defaults.HSMNames || d.Unseal != standin.Defaults.Unseal {
		t.Errorf("defaults: %+v, %v", d, err)
	}
}

// TestConfigYAMLAcceptedByStandIn: both admin variants of the initial
// config parse, and the derived one has no admin identity.
func TestConfigYAMLAcceptedByStandIn(t *testing.T) {
	const id = "h1:Ha9Kxuwc3jhZHcJE0OcsYEMTFqhSnHatfdKMGk7l5e4"
	for admin, want := range map[string]string{id: id, "": ""} {
		c, err := standin.ParseConfig(ConfigYAML(admin), VaultBlockDefault)
		if err != nil {
			t.Fatalf("admin %q: %v\n%s", admin, err, ConfigYAML(admin))
		}
		if c.AdminIdentity != want || len(c.Certs) != 1 || c.CA != "/etc/minkms/tls/ca.crt" {
			t.Errorf("admin %q: parsed %+v", admin, c)
		}
	}
}

func TestSeconds(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{{"5", "5", true}, {"0", "0", true}, {"007", "7", true}, {"-1", "", false}, {"x", "", false}, {"", "", false}}
	for _, c := range cases {
		got, err := Seconds(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Seconds(%q) = %q, %v", c.in, got, err)
		}
	}
}

func TestWithoutUsersDropsLabNames(t *testing.T) {
	users := []User{{Name: "kmsadmin"}, {Name: "kmspw"}}
	in := "root:x:0:0::/root:/bin/bash\nkmsadmin:x:5:5::/h:/bin/sh\nkmspwx:x:6:6::/h:/bin/sh\n\n"
	got := string(withoutUsers([]byte(in), users))
	want := "root:x:0:0::/root:/bin/bash\nkmspwx:x:6:6::/h:/bin/sh\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWriteTreeCopiesLowerAttrs: parents created in an upper dir take the
// lower dir's mode, since in an overlay the upper dir's attributes win.
func TestWriteTreeCopiesLowerAttrs(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(lower, "ssh"), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(lower, "ssh"), 0o711); err != nil {
		t.Fatal(err)
	}
	entries := []entry{
		file("ssh/sshd_config.d/a.conf", []byte("x"), 0o640),
		symlink("systemd/system/x.service", "/dev/null"),
		dir("lib/minkms", 0o700, os.Getuid(), os.Getgid()),
	}
	if err := writeTree(upper, lower, entries); err != nil {
		t.Fatal(err)
	}
	modes := []struct {
		rel  string
		want os.FileMode
	}{{"ssh", 0o711}, {"ssh/sshd_config.d", 0o755}, {"ssh/sshd_config.d/a.conf", 0o640}, {"lib/minkms", 0o700}}
	for _, m := range modes {
		fi, err := os.Stat(filepath.Join(upper, m.rel))
		if err != nil {
			t.Errorf("%s: %v", m.rel, err)
		} else if fi.Mode().Perm() != m.want {
			t.Errorf("%s: mode %v, want %v", m.rel, fi.Mode().Perm(), m.want)
		}
	}
	if target, err := os.Readlink(filepath.Join(upper, "systemd/system/x.service")); err != nil || target != "/dev/null" {
		t.Errorf("mask link: %q %v", target, err)
	}
}
