package envfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseEnvFileSystemdRules pins the systemd EnvironmentFile= reading
// rules (env-file.c) that RemoveKey and HasKey rely on.
func TestParseEnvFileSystemdRules(t *testing.T) {
	cases := []struct {
		name, in string
		want     map[string]string
	}{
		{"plain", "A=1\nB=two words\n", map[string]string{"A": "1", "B": "two words"}},
		{"white space around =", "  A = 1  \n\tB\t=\t2\n", map[string]string{"A": "1", "B": "2"}},
		{"double quotes", `A="x y"` + "\n", map[string]string{"A": "x y"}},
		{"single quotes", `A='x "y" \n'` + "\n", map[string]string{"A": `x "y" \n`}},
		{"quote then text", `A="x"y` + "\n", map[string]string{"A": "xy"}},
		{"quotes inside unquoted value stay", `A=x "y"` + "\n", map[string]string{"A": `x "y"`}},
		{"escapes in double quotes", `A="a\"b\\c\$d\qe"` + "\n", map[string]string{"A": `a"b\c$d\qe`}},
		{"escape outside quotes", `A=a\ b\#c` + "\n", map[string]string{"A": "a b#c"}},
		{"continuation", "A=one\\\ntwo\nB=3\n", map[string]string{"A": "onetwo", "B": "3"}},
		{"continuation in double quotes", "A=\"one\\\ntwo\"\n", map[string]string{"A": "onetwo"}},
		{"newline inside quotes", "A='one\ntwo'\nB=3\n", map[string]string{"A": "one\ntwo", "B": "3"}},
		{"comments", "# A=1\n; B=2\n  # C=3\nD=4 # not a comment\n", map[string]string{"D": "4 # not a comment"}},
		{"comment backslash does not continue", "# x \\\nA=1\n", map[string]string{"A": "1"}},
		{"duplicates: last wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"export is ignored", "export A=1\nB=2\n", map[string]string{"B": "2"}},
		{"digit first is ignored", "1A=1\nB=2\n", map[string]string{"B": "2"}},
		{"no equals is ignored", "A\nB=2\n", map[string]string{"B": "2"}},
		{"empty value", "A=\nB=''\n", map[string]string{"A": "", "B": ""}},
		{"crlf", "A=1\r\nB=\"2\"\r\n", map[string]string{"A": "1", "B": "2"}},
		{"crlf continuation ends the value", "A=1\\\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}},
		{"no final newline", "A=1\nB=2", map[string]string{"A": "1", "B": "2"}},
		{"trailing spaces at end of file", "A=1  ", map[string]string{"A": "1"}},
		{"unclosed quote runs to the end", "A=\"1\nB=2\n", map[string]string{"A": "1\nB=2\n"}},
		{"stops at NUL", "A=1\x00\nB=2\n", map[string]string{"A": "1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := effectiveEnv(parseEnvFile([]byte(c.in)))
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestRemoveEnvKeyCases(t *testing.T) {
	cases := []struct {
		name, in, out string
		removed       int
		warnings      []string
	}{
		{"middle", "A=1\nK=x\nB=2\n", "A=1\nB=2\n", 1, nil},
		{"only line", "K=x\n", "", 1, nil},
		{"last without newline", "A=1\nK=x", "A=1\n", 1, nil},
		{"indented", "A=1\n\t K = x \nB=2\n", "A=1\nB=2\n", 1, nil},
		{"export and declare", "export K=x\ndeclare -x K=y\nK=z\n", "", 3, nil},
		{"not a prefix match", "KK=1\nK_OLD=2\nXK=3\n", "KK=1\nK_OLD=2\nXK=3\n", 0, nil},
		{"continued over lines", "K=a\\\nb\\\nc\nB=2\n", "B=2\n", 1, nil},
		{"quoted over lines", "K='a\nb'\nB=2\n", "B=2\n", 1, nil},
		{"crlf", "A=1\r\nK=x\r\nB=2\r\n", "A=1\r\nB=2\r\n", 1, nil},
		{"blank lines stay", "\nK=x\n\nB=2\n", "\n\nB=2\n", 1, nil},
		{"no key", "A=1\n", "A=1\n", 0, nil},
		{"commented copy", "#K=hsm:aes256:abc\nK=x\n", "#K=hsm:aes256:abc\n", 1, []string{"line 1: a commented-out line still holds a K value"}},
		{"commented note is not a value", "# K= (see wiki)\nK=x\n", "# K= (see wiki)\n", 1, nil},
		{"copy inside another value", "A=\"K=hsm:aes256:abc\"\nK=x\n", "A=\"K=hsm:aes256:abc\"\n", 1, []string{"line 1: K= appears inside another value (systemd does not set K from it, but it is a copy on disk)"}},
		{"other unclosed quote", "K=x\nA=\"open\n", "A=\"open\n", 1, []string{"line 2: a quoted value is never closed; systemd reads the rest of the file as its value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := RemoveKey([]byte(c.in), "K")
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != c.out || res.Removed != c.removed || res.AlreadyAbsent != (c.removed == 0) {
				t.Fatalf("got %q removed=%d absent=%v, want %q removed=%d", res.Output, res.Removed, res.AlreadyAbsent, c.out, c.removed)
			}
			if strings.Join(res.Warnings, "|") != strings.Join(c.warnings, "|") {
				t.Fatalf("warnings %q, want %q", res.Warnings, c.warnings)
			}
			if err := checkEnvRemoval([]byte(c.in), res, "K"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRemoveEnvKeyRefuses(t *testing.T) {
	secret := "hsm:aes256:SECRETSECRET"
	cases := []struct {
		name, in, key string
		line          int
	}{
		{"bad key name", "A=1\n", "export K", 0},
		{"empty key name", "A=1\n", "", 0},
		{"NUL byte", "A=1\nK=" + secret + "\x00\n", "K", 2},
		{"invalid UTF-8", "A=1\nK=" + secret + "\xff\n", "K", 2},
		{"unclosed quote of the key", "A=1\nK=\"" + secret + "\nB=2\n", "K", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := RemoveKey([]byte(c.in), c.key)
			var ee *Error
			if !errors.As(err, &ee) || ee.Line != c.line {
				t.Fatalf("got %v, want an *Error on line %d", err, c.line)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the value: %v", err)
			}
		})
	}
}

func TestEnvHasKey(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"K=x\n", true},
		{"K=\n", true},
		{"# K=x\n", false},
		{"export K=x\n", false},
		{"KK=x\n", false},
		{"K=x\nK=y\n", true},
		{"A='\nK=x'\n", false},
		{"", false},
	}
	for _, c := range cases {
		got, err := HasKey([]byte(c.in), "K")
		if err != nil || got != c.want {
			t.Errorf("HasKey(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := HasKey([]byte("K=\xff\n"), "K"); err == nil {
		t.Error("invalid UTF-8: want an error, as systemd refuses the file")
	}
}

func TestRedactEnv(t *testing.T) {
	cases := []struct{ in, want string }{
		{"K=abc\nA=1\n", "K=<redacted>\nA=1\n"},
		{"K = 'a\nb'\r\nA=1\r\n", "K = <redacted>\r\nA=1\r\n"},
		{"K=a\\\nb\nA=1\n", "K=<redacted>\nA=1\n"},
		{"export K=abc\n", "export K=<redacted>\n"},
		{"# K=abc\n", "# K=<redacted>\n"},
		{"A=hsm:aes256:QUJD+/=\n", "A=<redacted>\n"},
		{"KK=abc\n", "KK=abc\n"},
		{"K=abc", "K=<redacted>"},
		{"K=\"unclosed\nA=1\n", "K=<redacted>\n"},
	}
	for _, c := range cases {
		if got := string(Redact([]byte(c.in), "K")); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
