package inventory

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlInstance turns YAML into the JSON value a YAML language server checks.
func yamlInstance(t *testing.T, text []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(text, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaAcceptsWhatTheDecoderAccepts: the example validates; files the
// decoder refuses for their shape are refused by the schema too.
func TestSchemaAcceptsWhatTheDecoderAccepts(t *testing.T) {
	s := compileSchema(t)
	if err := s.Validate(yamlInstance(t, Example)); err != nil {
		t.Errorf("the example does not validate: %v", err)
	}
	for _, bad := range []string{
		"version: v1\nnodes: [{name: a, address: b, paralel: 5}]\n",
		"version: v1\nssh: {port: twenty}\nnodes: [{name: a, address: b}]\n",
		"version: v2\nnodes: [{name: a, address: b}]\n",
		"version: v1\nnodes: []\n",
		"version: v1\nnodes: [{name: a, address: b}]\nvault: {server: 'https://v', transit: {key: k}}\n",
	} {
		if _, err := Parse("x.yaml", []byte(bad)); err == nil {
			t.Fatalf("the decoder accepts %q", bad)
		}
		if err := s.Validate(yamlInstance(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts %q", bad)
		}
	}
}

// TestSchemaKeysMatchDecoder: every section of the schema has exactly the
// keys the decoder knows.
func TestSchemaKeysMatchDecoder(t *testing.T) {
	b, _ := Schema()
	var s map[string]any
	json.Unmarshal(b, &s)
	props := func(o map[string]any, path ...string) []string {
		for _, p := range path {
			o = o["properties"].(map[string]any)[p].(map[string]any)
			if it, ok := o["items"]; ok {
				o = it.(map[string]any)
			}
		}
		var keys []string
		for k := range o["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	sorted := func(k []string) []string { k = slices.Clone(k); sort.Strings(k); return k }
	for _, tc := range []struct {
		path []string
		want []string
	}{
		{nil, topKeys}, {[]string{"ssh"}, sshKeys}, {[]string{"node_defaults"}, settingsKeys},
		{[]string{"nodes"}, nodeKeys}, {[]string{"nodes", "ssh"}, sshKeys}, {[]string{"vault"}, vaultKeys},
		{[]string{"vault", "approle"}, approleKeys}, {[]string{"vault", "kubernetes"}, kubernetesKeys},
		{[]string{"vault", "transit"}, transitKeys},
	} {
		if got := props(s, tc.path...); !slices.Equal(got, sorted(tc.want)) {
			t.Errorf("schema %v keys %v, decoder %v", tc.path, got, sorted(tc.want))
		}
	}
}
