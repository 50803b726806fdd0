package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
)

// Confirm asks a yes/no question on the terminal; nil when stdin is not a
// terminal, so a run in CI refuses instead of waiting for an answer.
func (s *IOStreams) Confirm() func(question string) (bool, error) {
	if !s.InTTY {
		return nil
	}
	return func(q string) (bool, error) {
		fmt.Fprintf(s.ErrOut, "%s [y/N] ", q)
		line, err := bufio.NewReader(s.In).ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("confirmation: %w", err)
		}
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "y" || a == "yes", nil
	}
}

// confirmChange is the one confirmation of the commands that change a
// cluster: --yes skips it, no terminal refuses (hint says what to pass),
// show writes what will happen to stderr before the question; a failing
// show is a preflight failure.
func confirmChange(yes bool, ask func(string) (bool, error), hint, question string, show func() error) error {
	if yes {
		return nil
	}
	if ask == nil {
		return errNoTerminal(hint)
	}
	if err := show(); err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	ok, err := ask(question)
	if err != nil {
		return err
	}
	if !ok {
		return &ExitError{Code: ExitFailed, Err: errors.New("not confirmed: nothing was changed")}
	}
	return nil
}

// errNoTerminal is the one refusal of a change that nobody can confirm: no
// terminal and no --yes. Commands check it before their first connection.
func errNoTerminal(hint string) error {
	return usageError(errors.New("refusing to change the cluster without a terminal to confirm on: pass --yes" + hint))
}
