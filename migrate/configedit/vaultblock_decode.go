package configedit

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// decodeVaultNode reads an existing Vault block into settings, so kmsctl can
// tell "already configured" from "configured differently". unknown lists the
// keys (dotted, e.g. "tls.insecure") that kmsctl does not write and that a
// replacement would drop. Errors name lines and keys, never values.
func decodeVaultNode(v *yaml.Node) (s VaultSettings, unknown []string, err error) {
	if isEmptyNull(v) {
		return s, nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return s, nil, fmt.Errorf("line %d: the block is not a mapping", v.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if seen[k.Value] {
			return s, nil, fmt.Errorf("line %d: the key %s appears twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		u, err := s.decodeKey(k.Value, val)
		if err != nil {
			return s, nil, err
		}
		unknown = append(unknown, u...)
	}
	return s, unknown, nil
}

// decodeKey reads one top-level key of the block.
func (s *VaultSettings) decodeKey(name string, val *yaml.Node) ([]string, error) {
	switch name {
	case "server":
		return nil, scalarInto(&s.Server, name, val)
	case "approle":
		s.AppRole = &AppRole{}
		a := s.AppRole
		return decodeFields(name, val, map[string]*string{"id": &a.ID, "secret": &a.Secret, "namespace": &a.Namespace, "path": &a.Path})
	case "kubernetes":
		s.Kubernetes = &Kubernetes{}
		k := s.Kubernetes
		return decodeFields(name, val, map[string]*string{"role": &k.Role, "jwt": &k.JWT, "namespace": &k.Namespace, "path": &k.Path})
	case "transit":
		t := &s.Transit
		return decodeFields(name, val, map[string]*string{"key": &t.Key, "namespace": &t.Namespace, "path": &t.Path})
	case "tls":
		s.TLS = &VaultTLS{}
		t := s.TLS
		return decodeFields(name, val, map[string]*string{"ca": &t.CA, "cert": &t.Cert, "key": &t.Key})
	}
	return []string{name}, nil
}

// decodeFields reads a section of scalar fields; it returns the dotted names
// of the keys it does not know.
func decodeFields(section string, n *yaml.Node, dst map[string]*string) ([]string, error) {
	if isEmptyNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s is not a mapping", n.Line, section)
	}
	var unknown []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := section + "." + k.Value
		if seen[k.Value] {
			return nil, fmt.Errorf("line %d: the key %s appears twice", k.Line, name)
		}
		seen[k.Value] = true
		p, ok := dst[k.Value]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := scalarInto(p, name, v); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

// scalarInto stores a scalar's text; a key with no value counts as unset.
func scalarInto(dst *string, name string, n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %s is not a single value", n.Line, name)
	}
	if n.ShortTag() != "!!null" {
		*dst = n.Value
	}
	return nil
}
