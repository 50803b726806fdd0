package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree, collecting every problem with its
// position instead of stopping at the first one.
type decoder struct {
	file   string
	dir    string
	data   []byte
	errs   []error
	locals []LocalFile
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, dir: filepath.Dir(file)}
}

// err returns every problem in file order.
func (d *decoder) err() error {
	slices.SortStableFunc(d.errs, func(a, b error) int {
		pa, pb := position(a), position(b)
		if pa[0] != pb[0] {
			return pa[0] - pb[0]
		}
		return pa[1] - pb[1]
	})
	return errors.Join(d.errs...)
}

func position(err error) [2]int {
	var fe *FieldError
	if errors.As(err, &fe) {
		return [2]int{fe.Line, fe.Column}
	}
	return [2]int{0, 0}
}

// fail records a problem at n (line 1 when n is nil).
func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// document parses the single YAML document of an inventory.
func (d *decoder) document(data []byte) *Inventory {
	inv := &Inventory{}
	d.data = data
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.fail(nil, "", "the inventory is empty (see `kmsctl inventory init`)")
		} else {
			d.errs = append(d.errs, SyntaxError(d.file, d.data, err))
		}
		return inv
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.fail(&extra, "", "only one YAML document is allowed")
	} else if !errors.Is(err, io.EOF) {
		d.errs = append(d.errs, SyntaxError(d.file, d.data, err))
	}
	if len(doc.Content) == 0 {
		d.fail(&doc, "", "the inventory is empty")
		return inv
	}
	d.top(doc.Content[0], inv)
	return inv
}

// fields is one checked YAML mapping: its values by key.
type fields struct {
	d    *decoder
	path string
	node *yaml.Node
	vals map[string]*yaml.Node
}

// forbidden keys are secrets that must never be written in an inventory.
var forbidden = map[string]string{
	"secret":        "secrets never go in the inventory: use secret_file (a 0600 file) or secret_env (an environment variable)",
	"secret_id":     "secrets never go in the inventory: use secret_file (a 0600 file) or secret_env (an environment variable)",
	"token":         "tokens never go in the inventory: use jwt (a path on the node) and jwt_file",
	"password":      "passwords never go in the inventory: for sudo's password use sudo_password_file (a 0600 file)",
	"sudo_password": "passwords never go in the inventory: use sudo_password_file (a 0600 file)",
	"passphrase":    "passphrases never go in the inventory: kmsctl asks for a key's passphrase once on the terminal, or use ssh-agent",
}

// forbiddenHint is the advice for a secret-looking key at path, "" when the
// key is not forbidden. An ssh section's "password" means a login password:
// kmsctl logs in with keys only, so the hint names those.
func forbiddenHint(path, name string) string {
	if name == "password" && (path == "ssh" || strings.HasSuffix(path, ".ssh")) {
		return "SSH passwords are not supported: kmsctl logs in with keys (identity_file, IdentityFile in ~/.ssh/config, or ssh-agent); for sudo's password use sudo_password_file"
	}
	return forbidden[name]
}

// secretFiles are the local-file keys whose content is a secret: they must
// not be readable by group or others.
var secretFiles = map[string]bool{"identity_file": true, "sudo_password_file": true, "secret_file": true, "jwt_file": true}

// mapping checks that n is a mapping with only known, unique keys.
func (d *decoder) mapping(n *yaml.Node, path string, known ...string) *fields {
	f := &fields{d: d, path: path, node: n, vals: map[string]*yaml.Node{}}
	if !d.usable(n, path) {
		return f
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping (key: value)")
		return f
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k, path, "keys must be plain strings")
		case forbiddenHint(path, name) != "":
			d.fail(k, join(path, name), "%s", forbiddenHint(path, name))
		case !slices.Contains(known, name):
			d.fail(k, join(path, name), "unknown field (known: %s)", strings.Join(known, ", "))
		case f.vals[name] != nil:
			d.fail(k, join(path, name), "duplicate key (first at line %d)", f.vals[name].Line)
		default:
			f.vals[name] = v
		}
	}
	return f
}

// usable rejects aliases and merge tricks, which would make positions and
// overrides ambiguous.
func (d *decoder) usable(n *yaml.Node, path string) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode {
		d.fail(n, path, "YAML aliases are not supported in an inventory")
		return false
	}
	return true
}

// has reports whether key was written.
func (f *fields) has(key string) bool { return f.vals[key] != nil }

// child returns the node of key and its field path.
func (f *fields) child(key string) (*yaml.Node, string) { return f.vals[key], join(f.path, key) }

// str reads an optional string scalar and checks it with rules.
func (f *fields) str(key string, rules ...rule) opt[string] {
	n, path := f.child(key)
	if n == nil || !f.d.usable(n, path) {
		return opt[string]{}
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		f.d.fail(n, path, "must be a string")
		return opt[string]{}
	}
	v := n.Value
	for _, r := range rules {
		if msg := r(v); msg != "" {
			f.d.fail(n, path, "%s", msg)
			return opt[string]{}
		}
	}
	return opt[string]{v: v, set: true}
}

// local reads an optional operator-side path: "~" expanded, relative paths
// resolved against the inventory's directory.
func (f *fields) local(key string) opt[string] {
	o := f.str(key, localPath)
	if o.set {
		o.v = expandHome(o.v)
		if !filepath.IsAbs(o.v) {
			o.v = filepath.Join(f.d.dir, o.v)
		}
		n := f.vals[key]
		f.d.locals = append(f.d.locals, LocalFile{Field: join(f.path, key), Path: o.v, Line: n.Line, Column: n.Column, Secret: secretFiles[key]})
	}
	return o
}

// required reads a string that must be present.
func (f *fields) required(key string, rules ...rule) string {
	if !f.has(key) {
		f.d.fail(f.node, join(f.path, key), "is required")
		return ""
	}
	return f.str(key, rules...).v
}

// port reads an optional TCP port.
func (f *fields) port(key string) opt[int] {
	n, path := f.child(key)
	if n == nil || !f.d.usable(n, path) {
		return opt[int]{}
	}
	p, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || p < 1 || p > 65535 {
		f.d.fail(n, path, "must be 1..65535")
		return opt[int]{}
	}
	return opt[int]{v: p, set: true}
}

// boolean reads an optional true/false.
func (f *fields) boolean(key string) opt[bool] {
	n, path := f.child(key)
	if n == nil || !f.d.usable(n, path) {
		return opt[bool]{}
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		f.d.fail(n, path, "must be true or false")
		return opt[bool]{}
	}
	return opt[bool]{v: b, set: true}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
