package cmd

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/remote"
)

// targetFor turns a resolved inventory node into what the SSH dialer needs.
// A proxy_jump "[user@]host[:port]" inherits the node's user, key and
// known_hosts unless it names its own user or port.
func targetFor(n inventory.Node) remote.Target {
	t := remote.Target{
		Name:         n.Name,
		Address:      n.Address,
		Port:         n.SSH.Port,
		User:         n.SSH.User,
		IdentityFile: n.SSH.IdentityFile,
		KnownHosts:   n.SSH.KnownHosts,
		Sudo:         n.SSH.Sudo,
	}
	if n.SSH.ProxyJump != "" {
		t.ProxyJump = jumpTarget(n, n.SSH.ProxyJump)
	}
	return t
}

func jumpTarget(n inventory.Node, spec string) *remote.Target {
	j := &remote.Target{
		Name:         "bastion " + spec,
		User:         n.SSH.User,
		Port:         22,
		IdentityFile: n.SSH.IdentityFile,
		KnownHosts:   n.SSH.KnownHosts,
	}
	hostPort := spec
	if u, rest, ok := strings.Cut(spec, "@"); ok {
		j.User, hostPort = u, rest
	}
	j.Address = hostPort
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		j.Address = h
		j.Port, _ = strconv.Atoi(p)
	}
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
	return DialerOptions{
		AcceptNewHostKeys: f.Global.AcceptNewHostKeys,
		Timeout:           f.Global.Timeout,
		SudoPasswordFiles: files,
		SudoPassword:      (&sudoPasswords{f: f, cache: map[string][]byte{}}).read,
		Prompt:            f.IO.Prompt(),
		Warnings:          f.IO.ErrOut,
	}
}
