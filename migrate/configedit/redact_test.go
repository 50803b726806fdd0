package configedit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRedactConfig(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"approle secret", "    secret: abc # note\n", "    secret: <redacted>\n"},
		{"quoted secret", "  \"secret\": 'abc'\r\n", "  \"secret\": <redacted>\r\n"},
		{"jwt token", "jwt: eyJhbGciOi.x.y\n", "jwt: <redacted>\n"},
		{"jwt path kept", "jwt: /etc/minkms/k8s-token\n", "jwt: /etc/minkms/k8s-token\n"},
		{"block scalar", "secret: |\n  line1\n  line2\nid: x\n", "secret: <redacted>\n  <redacted>\n  <redacted>\nid: x\n"},
		{"value on next line", "secret:\n  abc\nid: x\n", "secret:\n  <redacted>\nid: x\n"},
		{"flow mapping", "approle: {id: x, secret: abc, path: p}\n", "approle: {id: x, secret: <redacted>, path: p}\n"},
		{"other keys kept", "id: abc\nsecret_path: /x\n", "id: abc\nsecret_path: /x\n"},
		{"no final newline", "secret: abc", "secret: <redacted>"},
		{"not yaml at all", "secret: [unclosed\n", "secret: <redacted>\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(Redact([]byte(c.in))); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestRedactConfigCorpus redacts every input and golden output: no secret
// may remain, and the line count must not change (diffs stay aligned).
func TestRedactConfigCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	goldens, _ := filepath.Glob("testdata/config/*.golden")
	for _, f := range append(files, goldens...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := Redact(b)
		if bytes.Contains(r, []byte("SECRET")) {
			t.Errorf("%s: a secret survives redaction", f)
		}
		if len(splitCfgLines(r)) != len(splitCfgLines(b)) {
			t.Errorf("%s: redaction changed the number of lines", f)
		}
	}
}
