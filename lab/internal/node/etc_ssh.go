package node

// sshdConfig comes first in sshd_config.d (Debian's sshd_config includes it at
// the top, and the first value of an option wins), so the node uses only its own
// host key and the lab's authorized keys.
const sshdConfig = `# kmslab: per-node sshd settings (written by lab up)
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 200
MaxSessions 100
`

// sudoers gives kmsadmin passwordless sudo and kmspw sudo with its password.
const sudoers = `# kmslab users (written by lab up)
kmsadmin ALL=(ALL:ALL) NOPASSWD: ALL
kmspw ALL=(ALL:ALL) ALL
`

func sshEntries(f Files) []entry {
	out := []entry{
		file("ssh/ssh_host_ed25519_key", f.HostKeyPEM, 0o600),
		file("ssh/ssh_host_ed25519_key.pub", []byte(f.HostKeyPub+" root@"+f.Spec.Name()+"\n"), 0o644),
		file("ssh/sshd_config.d/00-kmslab.conf", []byte(sshdConfig), 0o644),
		file("sudoers.d/kmslab", []byte(sudoers), 0o440),
	}
	for _, u := range []string{"root", "kmsadmin", "kmspw"} {
		out = append(out, file("ssh/authorized_keys/"+u, []byte(f.ClientKey+" kmslab\n"), 0o644))
	}
	return out
}
