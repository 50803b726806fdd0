package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/kmsctl/kmsctl/lab/internal/node"
)

// cmdExec runs a command inside a node without SSH, passing stdin, stdout,
// stderr and the exit status through.
func cmdExec(ctx context.Context, args []string) error {
	l, rest, err := parseDir("exec", args, nil)
	if err != nil {
		return err
	}
	name, argv, err := splitExec(rest)
	if err != nil {
		return err
	}
	st, err := l.LoadState()
	if err != nil {
		return err
	}
	n, err := st.Node(name)
	if err != nil {
		return err
	}
	cmd, err := node.Command(ctx, n.PID, argv...)
	if err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("exec in %s: %w", n.Name, err)
	}
	return nil
}

// splitExec splits `NODE [--] CMD...`; only the first "--" is a separator.
func splitExec(rest []string) (string, []string, error) {
	if len(rest) > 1 && rest[1] == "--" {
		rest = append(rest[:1:1], rest[2:]...)
	}
	if len(rest) < 2 || rest[0] == "" {
		return "", nil, errors.New("usage: lab exec [--dir DIR] NODE -- CMD...")
	}
	return rest[0], rest[1:], nil
}
