// Command lab runs the kmsctl lab: a real Vault and N key manager nodes, each a
// real systemd with a real sshd in its own namespaces (see lab/README.md).
//
//	lab up [--nodes N] [--dir DIR]
//	lab down [--dir DIR]
//	lab exec [--dir DIR] NODE -- CMD...
//	lab fault [--dir DIR] NODE|all|vault KIND [ARGS]
//	lab heal [--dir DIR] NODE|all|vault [KIND]
//	lab status [--dir DIR]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kmsctl/kmsctl/lab/internal/node"
)

// commands maps each sub-command to its implementation.
var commands = map[string]func(ctx context.Context, args []string) error{
	"up":               cmdUp,
	"down":             cmdDown,
	"exec":             cmdExec,
	"fault":            cmdFault,
	"heal":             cmdHeal,
	"status":           cmdStatus,
	node.BootCommand:   func(_ context.Context, args []string) error { return node.Init(args) },
	k8sEndpointCommand: cmdK8sEndpoint,
}

const usage = `usage:
  lab up [--nodes N] [--dir DIR]
  lab down [--dir DIR]
  lab exec [--dir DIR] NODE -- CMD...
  lab fault [--dir DIR] NODE|all|vault KIND [ARGS]
  lab heal [--dir DIR] NODE|all|vault [KIND]
  lab status [--dir DIR]
DIR defaults to $KMSCTL_LAB_DIR, then /tmp/kmslab. See lab/README.md.
`

// exitError carries a command's own exit status (lab exec passes it through).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := commands[os.Args[1]](ctx, os.Args[2:])
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "lab "+os.Args[1]+": "+err.Error())
		os.Exit(1)
	}
}
