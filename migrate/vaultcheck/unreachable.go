package vaultcheck

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/kmsctl/kmsctl/remote"
)

// Unreachable stands in for a node kmsctl could not connect to over SSH.
// Passed to Run in the node's place, it makes that node's check fail with
// the SSH error, in inventory order, so a node is never silently missing
// from the report. Every remote.Node method returns the SSH error.
type Unreachable struct {
	// NodeName is the inventory name.
	NodeName string
	// Err is why the SSH connection failed.
	Err error
}

var _ remote.Node = (*Unreachable)(nil)

// Name returns the inventory name.
func (u *Unreachable) Name() string { return u.NodeName }

func (u *Unreachable) err() error { return &noConnError{node: u.NodeName, err: u.Err} }

// noConnError is the failure of every call on an Unreachable: it names
// the node once (the dial error names it too) and keeps the dial error's
// type for errors.As.
type noConnError struct {
	node string
	err  error
}

func (e *noConnError) Error() string {
	return fmt.Sprintf("node %s: no SSH connection: %s", e.node, withoutNode(e.node, e.err))
}

func (e *noConnError) Unwrap() error { return e.err }

// withoutNode is err's message without the "node NAME: " prefixes of the
// remote errors it wraps: the message around it names the node already.
func withoutNode(node string, err error) string {
	return strings.ReplaceAll(fmt.Sprint(err), "node "+node+": ", "")
}

// Run fails: there is no connection.
func (u *Unreachable) Run(context.Context, remote.Command) (remote.Result, error) {
	return remote.Result{}, u.err()
}

// ReadFile fails: there is no connection.
func (u *Unreachable) ReadFile(context.Context, string) ([]byte, remote.FileInfo, error) {
	return nil, remote.FileInfo{}, u.err()
}

// Stat fails: there is no connection.
func (u *Unreachable) Stat(context.Context, string) (remote.FileInfo, error) {
	return remote.FileInfo{}, u.err()
}

// WriteFileAtomic fails: there is no connection.
func (u *Unreachable) WriteFileAtomic(context.Context, string, []byte, remote.WriteOptions) error {
	return u.err()
}

// DialTCP fails: there is no connection.
func (u *Unreachable) DialTCP(context.Context, string) (net.Conn, error) { return nil, u.err() }

// Close does nothing.
func (u *Unreachable) Close() error { return nil }

// unreachableCheck is the failed check of a node without SSH connection.
func unreachableCheck(c Check, u *Unreachable) Check {
	return failed(c, fmt.Sprintf("node %s: no SSH connection, so Vault could not be checked from it: %s", u.NodeName, withoutNode(u.NodeName, u.Err)),
		"fix SSH access to the node first (`kmsctl status` shows what fails), then run the check again")
}
