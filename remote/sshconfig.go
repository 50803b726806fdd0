package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Defaults of the OpenSSH client that kmsctl follows.
var (
	// DefaultIdentities are the key files OpenSSH tries, in its order, when
	// neither the inventory nor ssh_config names one (relative to ~/.ssh).
	DefaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}
	// DefaultGlobalKnownHosts are read after the user's known_hosts files.
	DefaultGlobalKnownHosts = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
)

// DefaultSystemSSHConfig is read after the user's ~/.ssh/config, as ssh does.
const DefaultSystemSSHConfig = "/etc/ssh/ssh_config"

// maxJumpHops bounds a ProxyJump chain, so a loop in ssh_config (Host *
// ProxyJump bastion) is an error instead of endless recursion.
const maxJumpHops = 8

// sshConfig is the OpenSSH client configuration in force for one source:
// its files in precedence order (first obtained value wins, as in ssh).
type sshConfig struct {
	paths []string
	files []*ssh_config.Config
}

// get returns the first value of key for host alias, "" when none.
func (c *sshConfig) get(alias, key string) string {
	for _, f := range c.files {
		if v, _ := f.Get(alias, key); v != "" {
			return v
		}
	}
	return ""
}

// getAll returns every value of key for alias over all files (IdentityFile
// accumulates in OpenSSH).
func (c *sshConfig) getAll(alias, key string) []string {
	var out []string
	for _, f := range c.files {
		v, _ := f.GetAll(alias, key)
		out = append(out, v...)
	}
	return out
}

// configCache parses each ssh_config source once per dialer.
type configCache struct {
	mu   sync.Mutex
	byID map[string]*sshConfig
}

// load returns the configuration of source: "none" reads nothing, "" the
// user's ~/.ssh/config and then the system file, anything else that file
// only (as ssh -F), which must exist.
func (c *configCache) load(source, system string) (*sshConfig, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.byID[source]; ok {
		return cfg, nil
	}
	cfg := &sshConfig{}
	var err error
	switch source {
	case "none":
	case "":
		home, _ := os.UserHomeDir()
		for _, p := range []string{filepath.Join(home, ".ssh", "config"), system} {
			if p != "" && p != "none" {
				err = errors.Join(err, cfg.add(p, false))
			}
		}
	default:
		err = cfg.add(source, true)
	}
	if err != nil {
		return nil, err
	}
	if c.byID == nil {
		c.byID = map[string]*sshConfig{}
	}
	c.byID[source] = cfg
	return cfg, nil
}

// add parses one file; a missing file is fine unless it was named.
func (c *sshConfig) add(path string, required bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ssh config: %w", err)
	}
	f, err := ssh_config.DecodeBytes(data)
	if err != nil {
		return fmt.Errorf("ssh config %s: %w", path, err)
	}
	c.paths = append(c.paths, path)
	c.files = append(c.files, f)
	return nil
}

// identity is one private key file to offer; explicit ones must load.
type identity struct {
	file     string
	explicit bool
}

// hop is a Target with everything the OpenSSH client would take from its
// config resolved: the real host name, port, user, keys, known_hosts files,
// the bastion chain and the connect timeout.
type hop struct {
	Target
	alias            string
	identities       []identity
	useAgent         bool
	userKnownHosts   []string // the first one receives accepted keys
	globalKnownHosts []string
	hashKnownHosts   bool
	connectTimeout   time.Duration
	jump             *Target
	configFiles      []string
}

// resolve applies the ssh_config of t to every value the inventory left
// unset. Host key checking is never relaxed by the file.
func (d *SSHDialer) resolve(t Target) (*hop, error) {
	if t.depth > maxJumpHops {
		return nil, fmt.Errorf("ProxyJump chain longer than %d hops (a loop in ssh_config?)", maxJumpHops)
	}
	source := orString(t.SSHConfig, d.opts.SSHConfig)
	cfg, err := d.configs.load(source, d.opts.SystemSSHConfig)
	if err != nil {
		return nil, err
	}
	h := &hop{Target: t, alias: t.Address, configFiles: cfg.paths}
	get := func(key string) string { return cfg.get(h.alias, key) }
	if hn := get("HostName"); hn != "" {
		h.Address = strings.ReplaceAll(hn, "%h", h.alias)
	}
	if err := h.resolveLogin(get); err != nil {
		return nil, err
	}
	h.resolveIdentities(cfg)
	h.useAgent = !strings.EqualFold(get("IdentitiesOnly"), "yes")
	if err := h.resolveJump(get); err != nil {
		return nil, err
	}
	if h.jump != nil { // resolve the chain now: a loop fails before any dial
		j := *h.jump
		j.depth = t.depth + 1
		if _, err := d.resolve(j); err != nil {
			return nil, err
		}
	}
	h.resolveKnownHosts(get, d.opts.GlobalKnownHosts)
	h.connectTimeout = d.connectTimeout(get("ConnectTimeout"))
	if v := get("StrictHostKeyChecking"); v != "" && !strings.EqualFold(v, "yes") && !strings.EqualFold(v, "ask") {
		d.warnOnce("strict:"+h.alias, "warning: ssh_config sets StrictHostKeyChecking %s for %s: ignored, kmsctl always verifies host keys (trust new keys only with the --accept-new-host-keys flag)", v, h.alias)
	}
	return h, nil
}

// resolveLogin fills User and Port: inventory, else ssh_config, else the
// local user and 22.
func (h *hop) resolveLogin(get func(string) string) error {
	if h.Port == 0 {
		h.Port = 22
		if p := get("Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("ssh config: Port %q for %s: not a port", p, h.alias)
			}
			h.Port = n
		}
	}
	if h.User == "" {
		h.User = get("User")
	}
	if h.User == "" {
		if u, err := user.Current(); err == nil {
			h.User = u.Username
		}
	}
	return nil
}

// resolveIdentities: the inventory's identity_file alone, else ssh_config's
// IdentityFile lines, else OpenSSH's default key files that exist.
func (h *hop) resolveIdentities(cfg *sshConfig) {
	if h.IdentityFile != "" {
		h.identities = []identity{{file: h.IdentityFile, explicit: true}}
		return
	}
	for _, f := range cfg.getAll(h.alias, "IdentityFile") {
		if f != "none" {
			h.identities = append(h.identities, identity{file: h.expand(f)})
		}
	}
	if len(h.identities) > 0 {
		return
	}
	home, _ := os.UserHomeDir()
	for _, name := range DefaultIdentities {
		h.identities = append(h.identities, identity{file: filepath.Join(home, ".ssh", name)})
	}
}

// resolveJump takes the inventory's bastion, else ssh_config's ProxyJump
// chain. ProxyCommand is refused rather than silently bypassed.
func (h *hop) resolveJump(get func(string) string) error {
	if h.ProxyJump != nil {
		h.jump = h.ProxyJump
		return nil
	}
	if pj := get("ProxyJump"); pj != "" && pj != "none" {
		j, err := JumpChain(pj, Target{SSHConfig: h.SSHConfig})
		if err != nil {
			return fmt.Errorf("ssh config: ProxyJump for %s: %w", h.alias, err)
		}
		h.jump = j
		return nil
	}
	if pc := get("ProxyCommand"); pc != "" && pc != "none" {
		return fmt.Errorf("ssh config: ProxyCommand for %s is not supported: use ProxyJump (or proxy_jump in the inventory)", h.alias)
	}
	return nil
}

// resolveKnownHosts: the inventory's known_hosts, else UserKnownHostsFile,
// else ~/.ssh/known_hosts{,2}; then GlobalKnownHostsFile or the system files.
func (h *hop) resolveKnownHosts(get func(string) string, global []string) {
	home, _ := os.UserHomeDir()
	switch {
	case h.KnownHosts != "":
		h.userKnownHosts = []string{h.KnownHosts}
	case get("UserKnownHostsFile") != "":
		for _, f := range strings.Fields(get("UserKnownHostsFile")) {
			h.userKnownHosts = append(h.userKnownHosts, h.expand(f))
		}
	default:
		h.userKnownHosts = []string{filepath.Join(home, ".ssh", "known_hosts"), filepath.Join(home, ".ssh", "known_hosts2")}
	}
	h.globalKnownHosts = global
	if global == nil {
		h.globalKnownHosts = DefaultGlobalKnownHosts
	}
	if g := get("GlobalKnownHostsFile"); g != "" {
		h.globalKnownHosts = nil
		for _, f := range strings.Fields(g) {
			h.globalKnownHosts = append(h.globalKnownHosts, h.expand(f))
		}
	}
	h.hashKnownHosts = strings.EqualFold(get("HashKnownHosts"), "yes")
}

// connectTimeout: --connect-timeout, else ssh_config ConnectTimeout
// (seconds), else the run's per-node timeout.
func (d *SSHDialer) connectTimeout(fromConfig string) time.Duration {
	if d.opts.ConnectTimeout > 0 {
		return d.opts.ConnectTimeout
	}
	if n, err := strconv.Atoi(fromConfig); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return d.opts.FallbackConnectTimeout
}

// expand replaces ~ and the ssh_config tokens kmsctl knows (%d home, %h
// host, %p port, %r remote user, %u local user, %%).
func (h *hop) expand(s string) string {
	home, _ := os.UserHomeDir()
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = home + s[1:]
	}
	local := ""
	if u, err := user.Current(); err == nil {
		local = u.Username
	}
	return strings.NewReplacer("%%", "%", "%d", home, "%h", h.Address, "%p", strconv.Itoa(h.Port),
		"%r", h.User, "%u", local).Replace(s)
}

// JumpChain turns a ProxyJump value ("[user@]host[:port][,...]", the first
// dialled first) into the bastion Target closest to the destination, whose
// own ProxyJump leads back toward the operator. Every hop starts from
// template (user, key, known_hosts, ssh_config) and names its own user or
// port where the spec does.
func JumpChain(spec string, template Target) (*Target, error) {
	var prev *Target
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(strings.TrimPrefix(part, "ssh://"))
		if part == "" {
			return nil, fmt.Errorf("%q: empty hop", spec)
		}
		j := template
		j.Name, j.ProxyJump = "bastion "+part, prev
		hostPort := part
		if u, rest, ok := strings.Cut(part, "@"); ok {
			j.User, hostPort = u, rest
		}
		j.Address, j.Port = hostPort, 0
		if host, port, err := net.SplitHostPort(hostPort); err == nil {
			p, perr := strconv.Atoi(port)
			if perr != nil {
				return nil, fmt.Errorf("%q: bad port %q", part, port)
			}
			j.Address, j.Port = host, p
		}
		prev = &j
	}
	return prev, nil
}

func orString(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// hostNames caches ssh_config files for HostName, outside any dialer.
var hostNames = &configCache{}

// HostName is the network address of t as ssh would resolve it: the
// ssh_config HostName of the alias t.Address (t.SSHConfig, else source:
// "" for ~/.ssh/config and the system file), else t.Address. Callers that
// match nodes against addresses seen elsewhere (the key manager's cluster
// view) need it when the inventory names nodes by alias.
func HostName(t Target, source string) string {
	cfg, err := hostNames.load(orString(t.SSHConfig, source), DefaultSystemSSHConfig)
	if err != nil {
		return t.Address
	}
	if hn := cfg.get(t.Address, "HostName"); hn != "" {
		return strings.ReplaceAll(hn, "%h", t.Address)
	}
	return t.Address
}
