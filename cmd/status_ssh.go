package cmd

import (
	"errors"
	"strings"

	"github.com/kmsctl/kmsctl/remote"
)

// sshReport describes a failed login for status: the classified kind for
// the table ("host key unknown", "auth refused", ...) instead of a bare
// "unreachable", and the message without the node name the row already has.
func sshReport(node string, err error) SSHReport {
	kind := "unreachable"
	var de *remote.DialError
	var hke *remote.HostKeyError
	switch {
	case errors.As(err, &de):
		kind = string(de.Kind())
	case errors.As(err, &hke):
		kind = "host key " + hke.Kind.String()
	}
	return SSHReport{Kind: kind, Error: withoutNode(node, err)}
}

// withoutNode is err's message without the "node NAME: " prefixes that the
// report's row already shows (remote errors start with it).
func withoutNode(node string, err error) string {
	return strings.ReplaceAll(err.Error(), "node "+node+": ", "")
}

// msg is a probe error for the report of p's node.
func (p *probe) msg(err error) string { return withoutNode(p.node.Name, err) }

// loginUser is the user the connection logged in as (ssh_config may have
// set it), else the inventory's.
func loginUser(conn remote.Node, inventoryUser string) string {
	if u, ok := conn.(interface{ LoginUser() string }); ok && u.LoginUser() != "" {
		return u.LoginUser()
	}
	return inventoryUser
}
