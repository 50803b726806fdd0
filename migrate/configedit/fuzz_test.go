package configedit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzEditConfig checks Apply's promises on any input: no panic; a
// refusal is a *Error that does not leak the secret; a success parses,
// holds exactly the wanted block, means the same YAML outside it, and is a
// fixed point.
func FuzzEditConfig(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/config/*.yaml")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, false)
		f.Add(b, true, true)
	}
	for _, c := range configRefusals {
		f.Add([]byte(c.input), false, true)
	}
	f.Fuzz(func(t *testing.T, input []byte, kube, preferVault bool) {
		want := goldenSettings()["approle"]
		if kube {
			want = goldenSettings()["kubernetes"]
		}
		prefer := BlockHashicorpVault
		if preferVault {
			prefer = BlockVault
		}
		res, err := Apply(input, want, prefer)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || strings.Contains(err.Error(), testSecretID) {
				t.Fatalf("bad refusal: %v", err)
			}
			return
		}
		if err := checkEdited(input, res, want); err != nil {
			t.Fatal(err)
		}
		again, err := Apply(res.Output, want, prefer)
		if err != nil || again.Changed || !bytes.Equal(again.Output, res.Output) {
			t.Fatalf("second edit: err=%v changed=%v", err, again.Changed)
		}
	})
}

// checkEdited verifies one successful edit without using the code under
// test: it decodes both files into plain Go values.
func checkEdited(input []byte, res Result, want VaultSettings) error {
	if !res.Changed && !bytes.Equal(input, res.Output) {
		return fmt.Errorf("unchanged result differs from the input")
	}
	if err := sameOutsideVault(input, res.Output); err != nil {
		return err
	}
	got, err := vaultFromYAML(res.Output, res.Path)
	if err != nil {
		return err
	}
	if !got.Equal(want) {
		return fmt.Errorf("the block at %s does not hold the wanted settings", res.Path)
	}
	return nil
}

// sameOutsideVault decodes both files and compares them with the Vault
// blocks (and hsm, hsm.hashicorp if left empty) removed.
func sameOutsideVault(before, after []byte) error {
	var a, b any
	if err := yaml.Unmarshal(before, &a); err != nil {
		return fmt.Errorf("input does not decode: %v", err)
	}
	if err := yaml.Unmarshal(after, &b); err != nil {
		return fmt.Errorf("output does not decode: %v", err)
	}
	sa, sb := fmt.Sprintf("%#v", stripVaultAny(stringKeys(a))), fmt.Sprintf("%#v", stripVaultAny(stringKeys(b)))
	if sa != sb {
		return fmt.Errorf("the files differ outside the Vault block:\n%s\n%s", sa, sb)
	}
	return nil
}

// stringKeys turns every map[any]any (a mapping with non-string keys) into
// a map[string]any, so stripVaultAny has one map type to handle.
func stringKeys(v any) any {
	switch m := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprintf("%#v", k)
			}
			out[ks] = stringKeys(x)
		}
		return out
	case map[string]any:
		for k, x := range m {
			m[k] = stringKeys(x)
		}
	case []any:
		for i, x := range m {
			m[i] = stringKeys(x)
		}
	}
	return v
}

func stripVaultAny(doc any) any {
	root, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	hsm, ok := root["hsm"].(map[string]any)
	if root["hsm"] == nil || ok {
		delete(hsm, "vault")
		if hc, ok := hsm["hashicorp"].(map[string]any); hsm["hashicorp"] == nil || ok {
			delete(hc, "vault")
			if len(hc) == 0 {
				delete(hsm, "hashicorp")
			}
		}
		if len(hsm) == 0 {
			delete(root, "hsm")
		}
	}
	return root
}

// vaultYAML is the block as the key manager's own strict reader sees it.
type vaultYAML struct {
	Server  string `yaml:"server"`
	AppRole *struct {
		ID        string `yaml:"id"`
		Secret    string `yaml:"secret"`
		Namespace string `yaml:"namespace"`
		Path      string `yaml:"path"`
	} `yaml:"approle"`
	Kubernetes *struct {
		Role      string `yaml:"role"`
		JWT       string `yaml:"jwt"`
		Namespace string `yaml:"namespace"`
		Path      string `yaml:"path"`
	} `yaml:"kubernetes"`
	Transit struct {
		Key       string `yaml:"key"`
		Namespace string `yaml:"namespace"`
		Path      string `yaml:"path"`
	} `yaml:"transit"`
}

// vaultFromYAML reads the block at path with KnownFields, as a strict
// reader would.
func vaultFromYAML(b []byte, path BlockPath) (VaultSettings, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return VaultSettings{}, err
	}
	n := doc.Content[0]
	for _, k := range path.keys() {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return VaultSettings{}, fmt.Errorf("no %s at %s", k, path)
		}
		n = next
	}
	raw, err := yaml.Marshal(n)
	if err != nil {
		return VaultSettings{}, err
	}
	var v vaultYAML
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		return VaultSettings{}, fmt.Errorf("strict decode of the block: %v", err)
	}
	s := VaultSettings{Server: v.Server, Transit: Transit(v.Transit)}
	if a := v.AppRole; a != nil {
		s.AppRole = &AppRole{ID: a.ID, Secret: a.Secret, Namespace: a.Namespace, Path: a.Path}
	}
	if k := v.Kubernetes; k != nil {
		s.Kubernetes = &Kubernetes{Role: k.Role, JWT: k.JWT, Namespace: k.Namespace, Path: k.Path}
	}
	return s, nil
}
