package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// ErrNoSecret means a secret has no file, no variable and no terminal to
// prompt on. Callers match it with errors.Is to explain the three ways.
var ErrNoSecret = errors.New("no source for the secret")

// Secret says where one secret comes from: a file, else an environment
// variable, else a prompt on the operator's terminal. There is deliberately
// no way to give the value itself, so it never lands in shell history, argv
// (visible in ps) or the inventory.
type Secret struct {
	// Name is used in messages and prompts, never the value.
	Name string
	// File is a local file holding the secret (trailing newlines dropped).
	File string
	// Env is an environment variable holding the secret.
	Env string
}

// SecretOptions are the surroundings Read needs; tests replace them.
type SecretOptions struct {
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
	// Prompt asks on the terminal without echo; nil when there is none.
	Prompt func(label string) ([]byte, error)
	// Warn receives non-fatal advice (a file readable by others); may be nil.
	Warn func(msg string)
}

// Read returns the secret. A file readable by group or others is still read,
// with a warning, because refusing would break existing setups without
// making the secret any less exposed.
func (s Secret) Read(o SecretOptions) ([]byte, error) {
	switch {
	case s.File != "":
		return s.readFile(o)
	case s.Env != "":
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(s.Env)
		if v == "" {
			return nil, fmt.Errorf("%s: environment variable %s is empty or unset", s.Name, s.Env)
		}
		return []byte(v), nil
	case o.Prompt != nil:
		v, err := o.Prompt(s.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: read from terminal: %w", s.Name, err)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: empty input", s.Name)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s: %w: set a file or an environment variable, or run on a terminal to be asked", s.Name, ErrNoSecret)
}

func (s Secret) readFile(o SecretOptions) ([]byte, error) {
	st, err := os.Stat(s.File)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && o.Warn != nil {
		o.Warn(fmt.Sprintf("%s: %s has mode %04o, readable by others: chmod 600 %s", s.Name, s.File, perm, s.File))
	}
	data, err := os.ReadFile(s.File)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	data = bytes.TrimRight(data, "\r\n")
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", s.Name, s.File)
	}
	return data, nil
}
