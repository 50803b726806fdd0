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
	base := LabYAML(Spec{Index: 2}, 3, VaultBlockDefault, "shared")
	cases := []struct {
		key, value string
		check      func(*standin.Settings) bool
	}{
		{"internode_rule", "primary", func(s *standin.Settings) bool { return s.InternodeRule == "primary" }},
		{"vault_block", "hsm.vault", func(s *standin.Settings) bool { return s.VaultBlock == "hsm.vault" }},
		{"vault_block", VaultBlockDefault, func(s *standin.Settings) bool { return s.VaultBlock == VaultBlockDefault }},
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
