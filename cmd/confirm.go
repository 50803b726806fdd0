package cmd

import (
	"bufio"
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
