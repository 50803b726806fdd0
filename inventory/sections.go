package inventory

import (
	"fmt"
	"net"
	"strconv"

	"go.yaml.in/yaml/v3"
)

var (
	sshKeys      = []string{"user", "port", "identity_file", "known_hosts", "sudo", "proxy_jump", "sudo_password_file", "ssh_config"}
	settingsKeys = []string{"config", "env_file", "unit", "api", "api_ca_cert", "api_server_name", "backup_dir", "vault_block"}
	nodeKeys     = append([]string{"name", "address", "ssh"}, settingsKeys...)
)

// top reads the document's root mapping.
func (d *decoder) top(root *yaml.Node, inv *Inventory) {
	f := d.mapping(root, "", topKeys...)
	inv.Version = f.required("version", oneOf("v1"))
	if n, path := f.child("ssh"); n != nil {
		inv.ssh = d.ssh(n, path)
	}
	if n, path := f.child("node_defaults"); n != nil {
		inv.defaults = d.settings(d.mapping(n, path, settingsKeys...))
	}
	if n, path := f.child("vault"); n != nil {
		inv.Vault = d.vault(n, path)
	}
	n, path := f.child("nodes")
	if n == nil {
		d.fail(root, "nodes", "is required: list at least one node")
		return
	}
	inv.nodes = d.nodes(n, path, inv.ssh)
}

// ssh reads an ssh section.
func (d *decoder) ssh(n *yaml.Node, path string) rawSSH {
	f := d.mapping(n, path, sshKeys...)
	return rawSSH{
		user:             f.str("user", loginName),
		port:             f.port("port"),
		identityFile:     f.local("identity_file"),
		knownHosts:       f.local("known_hosts"),
		sudo:             f.boolean("sudo"),
		proxyJump:        f.str("proxy_jump", proxyJump),
		sudoPasswordFile: f.local("sudo_password_file"),
		sshConfig:        f.local("ssh_config"),
	}
}

// settings reads node settings from node_defaults or a node entry.
func (d *decoder) settings(f *fields) rawSettings {
	return rawSettings{
		config:        f.str("config", nodePath),
		envFile:       f.str("env_file", nodePath),
		unit:          f.str("unit", unitName),
		api:           f.str("api", httpsURL),
		apiCACert:     f.local("api_ca_cert"),
		apiServerName: f.str("api_server_name", hostName),
		backupDir:     f.str("backup_dir", nodePath),
		vaultBlock:    f.str("vault_block", oneOf(VaultBlockHashiCorp, VaultBlockShort, VaultBlockOpenBao)),
	}
}

// nodes reads nodes[] and rejects duplicate names and addresses.
func (d *decoder) nodes(n *yaml.Node, path string, defSSH rawSSH) []rawNode {
	if !d.usable(n, path) {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(n, path, "must be a list of at least one node")
		return nil
	}
	var out []rawNode
	names := map[string]int{}
	addrs := map[string]int{}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		rn := d.node(item, p)
		if first, dup := names[rn.name]; dup && rn.name != "" {
			d.fail(item, p+".name", "duplicate node name %q (first at line %d)", rn.name, first)
		}
		names[rn.name] = item.Line
		port := rn.ssh.over(defSSH).port
		addr := net.JoinHostPort(rn.address, strconv.Itoa(orDefaultInt(port.v, DefaultSSHPort)))
		if first, dup := addrs[addr]; dup && rn.address != "" {
			d.fail(item, p+".address", "duplicate address and port %s (first at line %d)", addr, first)
		}
		addrs[addr] = item.Line
		out = append(out, rn)
	}
	return out
}

// node reads one nodes[] entry.
func (d *decoder) node(n *yaml.Node, path string) rawNode {
	f := d.mapping(n, path, nodeKeys...)
	rn := rawNode{
		name:     f.required("name", nodeName),
		address:  f.required("address", hostName),
		settings: d.settings(f),
	}
	if c, p := f.child("ssh"); c != nil {
		rn.ssh = d.ssh(c, p)
	}
	return rn
}
