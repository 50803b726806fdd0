package cmd

import (
	"fmt"
	"io"
	"sync"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/remote"
)

// targetFor turns a resolved inventory node into what the SSH dialer needs.
// Only the values the inventory wrote are passed: the dialer fills the
// others from the OpenSSH client config (~/.ssh/config, --ssh-config or the
// inventory's ssh_config), then OpenSSH's defaults. A proxy_jump
// "[user@]host[:port][,...]" inherits the node's user, key and known_hosts
// unless it names its own user or port.
func targetFor(n inventory.Node) remote.Target {
	t := remote.Target{
		Name:      n.Name,
		Address:   n.Address,
		Sudo:      n.SSH.Sudo,
		SSHConfig: n.SSH.SSHConfig,
	}
	e := n.SSH.Explicit
	t.Port = pick(e.Port, n.SSH.Port)
	t.User = pick(e.User, n.SSH.User)
	t.IdentityFile = pick(e.IdentityFile, n.SSH.IdentityFile)
	t.KnownHosts = pick(e.KnownHosts, n.SSH.KnownHosts)
	if n.SSH.ProxyJump != "" {
		t.ProxyJump = jumpTarget(t, n.SSH.ProxyJump)
	}
	return t
}

// pick is v when the inventory wrote it, else the zero value.
func pick[T any](written bool, v T) T {
	var zero T
	if written {
		return v
	}
	return zero
}

// jumpTarget is the bastion chain of spec, each hop starting from the
// node's own login settings. The inventory validated spec already.
func jumpTarget(node remote.Target, spec string) *remote.Target {
	j, _ := remote.JumpChain(spec, remote.Target{
		User: node.User, IdentityFile: node.IdentityFile, KnownHosts: node.KnownHosts, SSHConfig: node.SSHConfig,
	})
	return j
}

// sudoPasswords reads each sudo password source once: a node's
// ssh.sudo_password_file, else --sudo-password-file, else one prompt on the
// terminal shared by every node.
type sudoPasswords struct {
	f     *Factory
	mu    sync.Mutex
	cache map[string][]byte // file ("" = prompt) -> password
}

// read implements DialerOptions.SudoPassword.
func (s *sudoPasswords) read(file string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.cache[file]; ok {
		return p, nil
	}
	p, err := inventory.Secret{Name: "sudo password", File: file}.Read(s.f.secretOptions())
	if err != nil {
		return nil, fmt.Errorf("%w (set ssh.sudo_password_file or --sudo-password-file)", err)
	}
	s.cache[file] = p
	return p, nil
}

// dialerOptions are this run's SSH settings for the given nodes.
func (f *Factory) dialerOptions(nodes []inventory.Node) DialerOptions {
	files := map[string]string{}
	for _, n := range nodes {
		files[n.Name] = orStr(n.SSH.SudoPasswordFile, f.Global.SudoPasswordFile)
	}
	var debug io.Writer
	if f.Global.Verbose {
		debug = f.IO.ErrOut
	}
	return DialerOptions{
		AcceptNewHostKeys: f.Global.AcceptNewHostKeys,
		Timeout:           f.Global.Timeout,
		ConnectTimeout:    f.Global.ConnectTimeout,
		SSHConfig:         f.Global.SSHConfig,
		Debug:             debug,
		SudoPasswordFiles: files,
		SudoPassword:      (&sudoPasswords{f: f, cache: map[string][]byte{}}).read,
		Prompt:            f.IO.Prompt(),
		Warnings:          f.IO.ErrOut,
	}
}
