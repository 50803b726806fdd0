package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// controlDir is where ansible.cfg's ssh_args put the ControlPersist sockets.
const controlDir = "/tmp/kmsctl-bench-ssh"

// writeAnsibleFiles writes the inventory (one host per lab node, the lab's
// key and known_hosts, strict host key checking) and the playbook's
// variables into work. The approle secret stays in its file: the playbook
// reads it with a lookup and never logs it.
func writeAnsibleFiles(l *labInfo, work string, settle, restartTimeout, gateTimeout time.Duration) error {
	var b strings.Builder
	b.WriteString("[kms]\n")
	for _, n := range l.Nodes {
		fmt.Fprintf(&b, "%s ansible_host=%s\n", n.Name, n.Address)
	}
	fmt.Fprintf(&b, "\n[kms:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n", filepath.Join(l.Dir, "id_ed25519"))
	fmt.Fprintf(&b, "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o HostKeyAlgorithms=ssh-ed25519 -o IdentitiesOnly=yes -o BatchMode=yes'\n",
		filepath.Join(l.Dir, "known_hosts"))
	if err := os.WriteFile(filepath.Join(work, "hosts.ini"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("ansible inventory: %w", err)
	}
	v := l.Vault
	vars := fmt.Sprintf("vault_server: %q\nvault_ca: %q\napprole_id: %q\napprole_path: %q\napprole_secret_file: %q\ntransit_key: %q\ntransit_path: %q\nsettle: %d\nrestart_timeout: %d\ngate_retries: %d\n",
		v.Server, v.CACert, v.AppRole.ID, orDefault(v.AppRole.Path, "approle"), v.AppRole.SecretFile,
		v.Transit.Key, orDefault(v.Transit.Path, "transit"),
		int(settle.Seconds()), int(restartTimeout.Seconds()), int(gateTimeout.Seconds()))
	if err := os.WriteFile(filepath.Join(work, "vars.yml"), []byte(vars), 0o600); err != nil {
		return fmt.Errorf("ansible vars: %w", err)
	}
	return os.MkdirAll(controlDir, 0o700)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// closeMasters ends the ControlPersist masters of the last Ansible run, so
// the next run starts cold, like every kmsctl invocation.
func closeMasters(ctx context.Context) {
	socks, _ := filepath.Glob(filepath.Join(controlDir, "*"))
	for _, s := range socks {
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "kmsctl-bench").Run()
		_ = os.Remove(s)
	}
}

// ansibleEnv points Ansible at the committed ansible.cfg.
func ansibleEnv(benchDir string) []string {
	return []string{"ANSIBLE_CONFIG=" + filepath.Join(benchDir, "ansible.cfg"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}
}
