package configedit

import (
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func TestYAMLScalar(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://vault.example.net:8200", "https://vault.example.net:8200"},
		{"123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"},
		{testSecretID, testSecretID},
		{"minkms-sealing-key", "minkms-sealing-key"},
		{"/etc/minkms/k8s-token", "/etc/minkms/k8s-token"},
		{"a:b", "a:b"},
		{"a,b", "a,b"},
		{`quote"inside`, `quote"inside`},
		{`back\slash`, `back\slash`},
		{"ключ", "ключ"},
		{"", `""`},
		{"true", `"true"`},
		{"False", `"False"`},
		{"yes", `"yes"`},
		{"No", `"No"`},
		{"on", `"on"`},
		{"y", `"y"`},
		{"null", `"null"`},
		{"~", `"~"`},
		{"123", `"123"`},
		{"-12", `"-12"`},
		{"0x1F", `"0x1F"`},
		{"0o17", `"0o17"`},
		{"017", `"017"`},
		{"0b101", `"0b101"`},
		{"1_000", `"1_000"`},
		{"1:30", `"1:30"`},
		{"1.5", `"1.5"`},
		{".5", `".5"`},
		{"1e3", `"1e3"`},
		{".inf", `".inf"`},
		{".NaN", `".NaN"`},
		{"2001-12-14", `"2001-12-14"`},
		{"<<", `"<<"`},
		{"=", `"="`},
		{"a: b", `"a: b"`},
		{"a #b", `"a #b"`},
		{"x:", `"x:"`},
		{"#x", `"#x"`},
		{"-x", `"-x"`},
		{"? x", `"? x"`},
		{"*x", `"*x"`},
		{"&x", `"&x"`},
		{"!x", `"!x"`},
		{"|", `"|"`},
		{">x", `">x"`},
		{"%x", `"%x"`},
		{"@x", `"@x"`},
		{"`x", "\"`x\""},
		{"'x'", `"'x'"`},
		{`"x"`, `"\"x\""`},
		{"[x]", `"[x]"`},
		{"{x}", `"{x}"`},
		{" lead", `" lead"`},
		{"trail ", `"trail "`},
		{"line\nbreak", `"line\nbreak"`},
		{"tab\there", `"tab\there"`},
		{"cr\rhere", `"cr\rhere"`},
		{"nul\x00", `"nul\x00"`},
		{"del\x7f", `"del\x7F"`},
		{"nbsp\u00a0x", `"nbsp\u00A0x"`},
		{"bom\ufeff", `"bom\uFEFF"`},
		{`a\"b: c`, `"a\\\"b: c"`},
	}
	for _, c := range cases {
		got := yamlScalar(c.in)
		if got != c.want {
			t.Errorf("yamlScalar(%q) = %s, want %s", c.in, got, c.want)
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+got+"\n"), &n); err != nil {
			t.Errorf("yamlScalar(%q) = %s does not parse: %v", c.in, got, err)
			continue
		}
		v := n.Content[0].Content[1]
		if v.ShortTag() != "!!str" || v.Value != c.in {
			t.Errorf("yamlScalar(%q) = %s reads back as %s %q", c.in, got, v.ShortTag(), v.Value)
		}
	}
}

func FuzzYAMLScalar(f *testing.F) {
	for _, s := range []string{"a", "true", "1:2", "a: b", "\n", testSecretID} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("settings are validated as UTF-8 before rendering")
		}
		got := yamlScalar(s)
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+got+"\n"), &n); err != nil {
			t.Fatalf("yamlScalar(%q) = %s does not parse: %v", s, got, err)
		}
		v := n.Content[0].Content[1]
		if v.ShortTag() != "!!str" || v.Value != s {
			t.Fatalf("yamlScalar(%q) = %s reads back as %s %q", s, got, v.ShortTag(), v.Value)
		}
	})
}
