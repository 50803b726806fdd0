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
	return SSHReport{Kind: kind, Error: strings.TrimPrefix(err.Error(), "node "+node+": ")}
}
