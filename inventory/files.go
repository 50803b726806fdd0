package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// LocalFile is an operator-side file the inventory names, with where it is
// named, so a missing or exposed file is reported at its line.
type LocalFile struct {
	Field  string // e.g. "nodes[0].ssh.identity_file"
	Path   string // resolved absolute path
	Line   int
	Column int
	// Secret: the content is a secret (key, password, secret id, token), so
	// the file must not be readable by group or others.
	Secret bool
}

// LocalFiles lists the operator-side files the inventory names, in file order.
func (inv *Inventory) LocalFiles() []LocalFile { return inv.locals }

// CheckFiles checks every local file the inventory names: it exists, is a
// regular file, is readable, and a secret file is not readable by group or
// others. Problems are *FieldError values joined, like Load's.
func (inv *Inventory) CheckFiles() error {
	var errs []error
	for _, lf := range inv.locals {
		if msg := checkLocalFile(lf); msg != "" {
			errs = append(errs, &FieldError{File: inv.File, Line: lf.Line, Column: max(lf.Column, 1), Field: lf.Field, Msg: msg})
		}
	}
	return errors.Join(errs...)
}

// checkLocalFile returns what is wrong with one file, "" when nothing.
func checkLocalFile(lf LocalFile) string {
	st, err := os.Stat(lf.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s does not exist", lf.Path)
	case err != nil:
		return err.Error()
	case st.IsDir():
		return fmt.Sprintf("%s is a directory, not a file", lf.Path)
	}
	f, err := os.Open(lf.Path)
	if err != nil {
		return fmt.Sprintf("%s is not readable: %v", lf.Path, errors.Unwrap(err))
	}
	f.Close()
	if perm := st.Mode().Perm(); lf.Secret && perm&0o077 != 0 {
		return fmt.Sprintf("%s holds a secret but has mode %04o (readable by group or others): chmod 600 %s", lf.Path, perm, lf.Path)
	}
	return ""
}
