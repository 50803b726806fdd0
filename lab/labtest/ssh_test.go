package labtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSSHStrictHostKeys runs `systemctl is-active minkms` over real SSH with
// strict host key checking against DIR/known_hosts, as each lab user.
func TestSSHStrictHostKeys(t *testing.T) {
	l := needLab(t)
	password, err := os.ReadFile(l.dir.Secret("kmspw-password"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, command string
		stdin         []byte
		want          string
		ok            bool
	}{
		{"root", "systemctl is-active minkms", nil, "active", true},
		{"kmsadmin", "sudo -n systemctl is-active minkms", nil, "active", true},
		{"kmspw", "sudo -S -p '' systemctl is-active minkms", append(password, '\n'), "active", true},
		{"kmspw", "sudo -n systemctl is-active minkms", nil, "a password is required", false},
		{"kmsadmin", "systemctl is-active minkms >/dev/null; cat /etc/default/minkms", nil, "Permission denied", false},
	}
	for _, n := range l.state.Nodes {
		t.Run(n.Name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				out, err := l.ssh(c.user, n.Name, c.stdin, c.command)
				if (err == nil) != c.ok || !strings.Contains(out, c.want) {
					t.Errorf("%s@%s %q: err=%v out=%q; want ok=%v and %q", c.user, n.Name, c.command, err, out, c.ok, c.want)
				}
			}
		})
	}
}

// TestSSHRefusesWrongHostKey checks that strict checking is real: a known_hosts
// with another node's key for kms-1's address is refused.
func TestSSHRefusesWrongHostKey(t *testing.T) {
	l := needLab(t)
	if len(l.state.Nodes) < 2 {
		t.Skip("needs two nodes")
	}
	kh, err := os.ReadFile(l.dir.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	swapped := l.state.Nodes[0].Address + " " + strings.SplitN(lines[1], " ", 2)[1] + "\n"
	bad := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(bad, []byte(swapped), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := l.sshWith([]string{"-o", "UserKnownHostsFile=" + bad}, "root", l.state.Nodes[0].Name, "true")
	if err == nil || !strings.Contains(out, "HOST IDENTIFICATION HAS CHANGED") {
		t.Fatalf("ssh with a wrong host key: err=%v out=%q", err, out)
	}
}
